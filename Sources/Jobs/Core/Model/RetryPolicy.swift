/// How often and how late a failed job is tried again.
public struct RetryPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Attempts in all, the first one included. `1` means never retried.
    public var maxAttempts: Int
    /// Delay before the second attempt.
    public var base: Duration
    /// Growth per attempt: 2 doubles, 1 keeps the delay fixed.
    public var factor: Double
    /// Upper bound of one delay.
    public var maxBackoff: Duration
    /// Fraction of each delay taken away at random, 0 to 1. With 0.5, delays fall in [d/2, d].
    public var jitter: Double

    public init(maxAttempts: Int, base: Duration, factor: Double, maxBackoff: Duration, jitter: Double) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        precondition((0...1).contains(jitter), "jitter must be within 0...1")
        self.maxAttempts = maxAttempts
        self.base = base
        self.factor = factor
        self.maxBackoff = maxBackoff
        self.jitter = jitter
    }

    /// Exponential backoff with jitter, so a burst of failures does not come back as one burst.
    public static func exponentialJitter(
        maxAttempts: Int = 5, base: Duration = .seconds(1), maxBackoff: Duration = .seconds(300)
    ) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, base: base, factor: 2, maxBackoff: maxBackoff, jitter: 0.5)
    }

    /// Exponential backoff without jitter.
    public static func exponential(
        maxAttempts: Int = 5, base: Duration = .seconds(1), maxBackoff: Duration = .seconds(300)
    ) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, base: base, factor: 2, maxBackoff: maxBackoff, jitter: 0)
    }

    /// The same delay before every retry.
    public static func fixed(maxAttempts: Int, delay: Duration) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, base: delay, factor: 1, maxBackoff: delay, jitter: 0)
    }

    /// One attempt only: any failure goes to the dead-letter queue.
    public static let never = RetryPolicy(maxAttempts: 1, base: .zero, factor: 1, maxBackoff: .zero, jitter: 0)

    /// Five attempts, 1 s doubling up to 5 min, with jitter.
    public static let `default` = RetryPolicy.exponentialJitter()

    /// Whether a job that just failed attempt `attempt` (1-based) may run again.
    public func allowsRetry(afterAttempt attempt: Int) -> Bool { attempt < maxAttempts }

    /// The delay after failed attempt `attempt` (1-based); `random` is uniform in 0..<1.
    public func backoff(afterAttempt attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let raw = Double(base.milliseconds) * power(factor, max(0, attempt - 1))
        let capped = min(raw, Double(maxBackoff.milliseconds))
        let delay = capped * (1 - jitter * random)
        return .milliseconds(Int64(delay.rounded()))
    }

    public var description: String {
        "maxAttempts=\(maxAttempts) base=\(base) factor=\(factor) max=\(maxBackoff) jitter=\(jitter)"
    }
}

/// x to the n, stopping early once far past any sane delay.
private func power(_ x: Double, _ n: Int) -> Double {
    var result = 1.0
    for _ in 0..<n {
        if result >= 1e15 { break }
        result *= x
    }
    return result
}
