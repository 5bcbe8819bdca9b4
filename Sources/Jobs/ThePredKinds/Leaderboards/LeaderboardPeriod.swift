import Foundation
import Jobs

/// A leaderboard period: WEEK runs Monday 00:00 to the next Monday 00:00 UTC, MONTH the 1st 00:00
/// to the next month's 1st. The end is exclusive, so Sunday 23:59:59.999 is still in the week.
public struct LeaderboardPeriod: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case week = "WEEK", month = "MONTH"
    }

    public let kind: Kind
    /// Inclusive, ms since the epoch.
    public let startsAt: Int64
    /// Exclusive, ms since the epoch.
    public let endsAt: Int64

    static let dayMillis: Int64 = 86_400_000

    /// The period of `kind` that contains the instant `millis`.
    public static func containing(_ millis: Int64, kind: Kind) -> LeaderboardPeriod {
        let day = CivilDate.floorDiv(millis, dayMillis)
        switch kind {
        case .week:
            // Weeks start on Monday; CivilDate counts from Sunday (0).
            let start = (day - CivilDate.floorMod(CivilDate.weekday(fromDays: day) + 6, 7)) * dayMillis
            return LeaderboardPeriod(kind: .week, startsAt: start, endsAt: start + 7 * dayMillis)
        case .month:
            let (y, m, _) = CivilDate.date(fromDays: day)
            let start = CivilDate.days(year: y, month: m, day: 1) * dayMillis
            let end = (m == 12 ? CivilDate.days(year: y + 1, month: 1, day: 1) : CivilDate.days(year: y, month: m + 1, day: 1)) * dayMillis
            return LeaderboardPeriod(kind: .month, startsAt: start, endsAt: end)
        }
    }

    /// The last period of `kind` that ended at or before `millis`.
    public static func lastEnded(before millis: Int64, kind: Kind) -> LeaderboardPeriod {
        containing(containing(millis, kind: kind).startsAt - 1, kind: kind)
    }

    public var description: String { "\(kind.rawValue) \(Self.utcDay(startsAt))" }
}

extension LeaderboardPeriod {
    /// The UTC day of `millis` as `YYYY-MM-DD`.
    public static func utcDay(_ millis: Int64) -> String {
        let (y, m, d) = CivilDate.date(fromDays: CivilDate.floorDiv(millis, dayMillis))
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// Whether `text` is a real calendar date written `YYYY-MM-DD`.
    public static func isValidDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { ("0"..."9").contains($0) } }), let y = Int64(parts[0]), let m = Int64(parts[1]),
            let d = Int64(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { return false }
        let (y2, m2, d2) = CivilDate.date(fromDays: CivilDate.days(year: y, month: m, day: d))
        return (y2, m2, d2) == (y, m, d)
    }
}
