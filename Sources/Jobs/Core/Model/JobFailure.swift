/// An outcome a handler throws to say how its job should go on.
///
/// Any other error a handler throws is transient: the job is retried by its retry policy.
/// A job that runs past its kind's timeout counts as transient too.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    enum Action: Sendable, Equatable {
        case permanent
        case rejected
        case snooze(Duration)
        case retryAfter(Duration)
    }

    let action: Action
    /// Why, in words for the dead-letter queue and the logs.
    public let reason: String

    /// Never retry: the job goes to the dead-letter queue at once with `reason`.
    public static func permanent(_ reason: String) -> JobFailure { .init(action: .permanent, reason: reason) }

    /// An expected refusal ("insufficient balance", a user who blocked the bot): the job ends
    /// `rejected` with `reason`, readable by job id. Final, never retried, and not a dead letter:
    /// the dead-letter queue is for what an operator must act on.
    public static func rejected(_ reason: String) -> JobFailure { .init(action: .rejected, reason: reason) }

    /// Run again after `delay` without using an attempt (rate limits, Telegram's 429).
    public static func snooze(for delay: Duration, reason: String = "snoozed") -> JobFailure {
        .init(action: .snooze(delay), reason: reason)
    }

    /// A transient failure that uses an attempt but names its own delay instead of the policy's.
    public static func retry(after delay: Duration, reason: String) -> JobFailure {
        .init(action: .retryAfter(delay), reason: reason)
    }

    public var isPermanent: Bool { action == .permanent }
    public var isRejected: Bool { action == .rejected }

    /// The snooze delay, when this is a snooze.
    public var snoozeDelay: Duration? {
        if case .snooze(let d) = action { return d }
        return nil
    }

    /// The handler's own retry delay, when it named one.
    public var retryDelay: Duration? {
        if case .retryAfter(let d) = action { return d }
        return nil
    }

    public var description: String {
        switch action {
        case .permanent: return "permanent failure: \(reason)"
        case .rejected: return "rejected: \(reason)"
        case .snooze(let d): return "snoozed for \(d): \(reason)"
        case .retryAfter(let d): return "retry after \(d): \(reason)"
        }
    }
}
