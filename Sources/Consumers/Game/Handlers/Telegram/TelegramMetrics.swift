import Metrics
import Synchronization
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

    private struct Key: Hashable {
        let lane: String
        let priority: String
        let result: String
    }

    private static let sends = Mutex<[Key: Counter]>([:])
    private static let waits = Mutex<[Key: Timer]>([:])
    private static let pauses = Counter(label: "thepred_telegram_429_pauses_total")
    private static let pausedSeconds = FloatingPointCounter(label: "thepred_telegram_429_pause_seconds_total")

    let lane: String
    let priority: String

    static func register() { _ = (pauses, pausedSeconds) }

    init(paid: Bool, priority: TelegramSend.Priority) {
        lane = paid ? "paid" : "free"
        self.priority = priority.rawValue
    }

    func ended(_ result: Result) {
        let key = Key(lane: lane, priority: priority, result: result.rawValue)
        let counter = Self.sends.withLock { cache in
            if let found = cache[key] { return found }
            let made = Counter(
                label: "thepred_telegram_sends_total", dimensions: [("lane", lane), ("class", priority), ("result", result.rawValue)])
            cache[key] = made
            return made
        }
        counter.increment()
    }

    /// From the first ask to the granted slot: the pacing a message waited for.
    func waited(_ duration: Duration) {
        let key = Key(lane: lane, priority: priority, result: "")
        let timer = Self.waits.withLock { cache in
            if let found = cache[key] { return found }
            let made = Timer(
                label: "thepred_telegram_limiter_wait_seconds", dimensions: [("lane", lane), ("class", priority)],
                preferredDisplayUnit: .seconds)
            cache[key] = made
            return made
        }
        timer.recordNanoseconds(max(0, duration.nanoseconds))
    }

    /// A 429's pause of the whole fleet.
    func paused(for duration: Duration) {
        Self.pauses.increment()
        Self.pausedSeconds.increment(by: Double(duration.milliseconds) / 1000)
    }
}
