import Jobs

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

/// What a worker needs to deliver `telegram.send` jobs.
public struct TelegramDelivery: Sendable {
    public var bot: any TelegramBotAPI
    public var limiter: any SendRateLimiter
    public var limits: TelegramLimits
    /// How long a run's claim on a message lasts, so no other run sends while this one might.
    /// The request must be answered `claimMargin` before the claim ends, or it is not started:
    /// with 32 s and 5 s, within 27 s of the claim, inside telegram.send's 30 s job timeout,
    /// with 5 s left for the SENT write. It must exceed the client's request timeout (15 s) plus
    /// the rate limiter's horizon (3 s) and the margin, or sends would never start.
    public var claimLease: Duration = .seconds(32)
    /// See `claimLease`.
    public var claimMargin: Duration = .seconds(5)
    /// How long a run keeps trying to write SENT after Telegram accepted the message, before it
    /// gives up (the job then goes to the dead-letter queue saying so).
    public var sentWriteRetry: Duration = .seconds(60)

    public init(bot: any TelegramBotAPI, limiter: any SendRateLimiter, limits: TelegramLimits = TelegramLimits()) {
        self.bot = bot
        self.limiter = limiter
        self.limits = limits
    }
}
