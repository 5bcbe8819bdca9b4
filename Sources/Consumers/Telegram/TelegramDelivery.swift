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
