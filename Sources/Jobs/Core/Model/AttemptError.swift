import Foundation

/// One error of one attempt, kept with the job so the dead-letter queue shows the whole history.
public struct AttemptError: Codable, Sendable, Equatable {
    public var attempt: Int
    /// Milliseconds since the epoch.
    public var at: Int64
    public var error: String

    public init(attempt: Int, at: Int64, error: String) {
        self.attempt = attempt
        self.at = at
        self.error = error
    }
}
