import Foundation
import Jobs

/// `leaderboard.close`: ranks one WEEK or MONTH period, writes its snapshot and pays its reward
/// tiers. A period closes once, however many jobs for it run.
public struct LeaderboardClose: Codable, Sendable, Equatable {
    public var period: LeaderboardPeriod.Kind
    /// The start of the period (ms since the epoch, UTC). Nil closes the last period that has ended.
    public var startsAtMillis: Int64?
    /// Snapshot rows to keep; default 100.
    public var top: Int?

    public init(period: LeaderboardPeriod.Kind, startsAtMillis: Int64? = nil, top: Int? = nil) {
        self.period = period
        self.startsAtMillis = startsAtMillis
        self.top = top
    }

    enum CodingKeys: String, CodingKey { case period, startsAtMillis = "starts_at_ms", top }

    public static let kind = JobKind<LeaderboardClose>(
        "leaderboard.close", queue: "leaderboards", retry: .exponentialJitter(maxAttempts: 10, maxBackoff: .seconds(300)),
        timeout: .seconds(600))
}
