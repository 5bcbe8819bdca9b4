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
    /// A send that would leave later than this after its slot does not use it, and asks for a
    /// new one: a late message and the next one on time would share a window. The headroom (30 ms
    /// at 30/s) covers this and the trip to Telegram.
    public var lateness: Duration = .milliseconds(10)
    /// How long before its slot a send is handed to the client, which waits the rest on its
    /// connection's thread (a thread of its own wakes on time; a task on the cooperative pool can
    /// wake late when both threads are busy). Short, because the connection serves no other
    /// request while it waits: 30 ms halved the paid lane (934 to 444 msg/s with 16 connections).
    public var handOff: Duration = .milliseconds(3)
    /// A refused send waits this long at most in its job for the next try; a longer wait snoozes
    /// the job. Turns on the shared lane come within a few spacings (34 ms each); a chat's own
    /// limit can take a second, and waiting it out would hold a worker slot that long.
    public var waitInProcess: Duration = .milliseconds(120)
    /// A slot further off than this is not waited for in the job: the job is snoozed instead,
    /// so a worker's slots are not all spent sleeping.
    public var horizon: Duration = .seconds(3)
    /// How the classes without priority share the free lane, by weight (fleet-wide). A class not
    /// named here (interactive) goes first. Only the free lane is shared: the paid lane is its own.
    public var classWeights: [String: Int] = ["results": 2, "bulk": 1]
    /// The most of the free lane the priority class takes while a weighted class has work.
    public var priorityShare = 0.8
    /// How far ahead a weighted class may hold a slot: what a priority message waits behind them at most.
    public var weightedAhead: Duration = .milliseconds(500)

    public init() {}

    /// How a message of `className` shares the free lane; nil in the paid lane, which is not shared.
    public func share(className: String, paid: Bool) -> RateShare? {
        guard !paid else { return nil }
        return RateShare(lane: "global", className: className, weights: classWeights, priorityShare: priorityShare, ahead: weightedAhead)
    }

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
