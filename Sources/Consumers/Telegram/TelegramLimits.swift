/// Telegram's send limits, as lanes of the fleet-wide limiter.
public struct TelegramLimits: Sendable {
    /// Messages per second for the whole bot, outside the paid lane.
    public var globalPerSecond = 30
    /// Messages per second with `allow_paid_broadcast`.
    public var paidPerSecond = 1000
    /// Messages per minute to one group chat (negative chat id).
    public var groupPerMinute = 20
    /// Widens every spacing by this fraction, so that jitter between the limiter's grant and the
    /// arrival at Telegram cannot put one message too many into a window: 3% lets a message
    /// arrive up to 30 ms late at 30/s (measured: 20 ms was too little on a loaded 2-core
    /// machine). Costs 3% of throughput: 29.1 msg/s of 30.
    public var headroom = 0.03
    /// A slot further off than this is not waited for in the job: the job is snoozed instead,
    /// so a worker's slots are not all spent sleeping.
    public var horizon: Duration = .seconds(3)

    public init() {}

    /// The lanes one message must pass: the bot's lane (free or paid), its chat, and its group.
    public func lanes(chatID: Int64, paid: Bool) -> [RateLane] {
        var lanes = [
            paid
                ? RateLane.perPeriod("paid", count: paidPerSecond, period: .seconds(1), headroom: headroom)
                : RateLane.perPeriod("global", count: globalPerSecond, period: .seconds(1), headroom: headroom),
            RateLane.perPeriod("chat:\(chatID)", count: 1, period: .seconds(1), headroom: headroom),
        ]
        if chatID < 0 {
            lanes.append(RateLane.perPeriod("group:\(chatID)", count: groupPerMinute, period: .seconds(60), headroom: headroom))
        }
        return lanes
    }
}
