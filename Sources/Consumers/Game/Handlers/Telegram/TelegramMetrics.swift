import Metrics
import ThePredKinds

/// swift-metrics figures of the Telegram sends: `thepred_telegram_sends_total{lane,class,result}`,
/// `thepred_telegram_limiter_wait_seconds{lane,class}` and the fleet pauses Telegram's 429s cause.
/// Every label comes from a fixed set.
struct TelegramMetrics: Sendable {
    enum Result: String, Sendable {
        case sent, ambiguous, cancelled
        /// Telegram's 429: the fleet pauses.
        case rateLimited = "rate_limited"
        /// 403: the user blocked the bot or is gone.
        case blocked
        /// 400, or a message Telegram would refuse, caught before sending.
        case refused
        /// 5xx and transport errors, where the message did not go out.
        case failed
        /// Local congestion: the request could not start in time, or missed its slot.
        case notStarted = "not_started"
    }

    // Handles are made per event, not cached: a cache made before the metrics backend is
    // bootstrapped would keep no-op handles for good. A send is milliseconds; the lookup is not.
    private static var pauses: Counter { Counter(label: "thepred_telegram_429_pauses_total") }
    private static var pausedSeconds: FloatingPointCounter { FloatingPointCounter(label: "thepred_telegram_429_pause_seconds_total") }

    let lane: String
    let priority: String

    static func register() { _ = (pauses, pausedSeconds) }

    init(paid: Bool, priority: TelegramSend.Priority) {
        lane = paid ? "paid" : "free"
        self.priority = priority.rawValue
    }

    func ended(_ result: Result) {
        Counter(label: "thepred_telegram_sends_total", dimensions: [("lane", lane), ("class", priority), ("result", result.rawValue)])
            .increment()
    }

    /// From the first ask to the granted slot: the pacing a message waited for.
    func waited(_ duration: Duration) {
        Timer(
            label: "thepred_telegram_limiter_wait_seconds", dimensions: [("lane", lane), ("class", priority)],
            preferredDisplayUnit: .seconds
        )
        .recordNanoseconds(max(0, duration.nanoseconds))
    }

    /// A 429's pause of the whole fleet.
    func paused(for duration: Duration) {
        Self.pauses.increment()
        Self.pausedSeconds.increment(by: Double(duration.milliseconds) / 1000)
    }
}
