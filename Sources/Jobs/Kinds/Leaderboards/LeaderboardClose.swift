import Foundation

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
        let day = floorDiv(millis, dayMillis)
        switch kind {
        case .week:
            // 1970-01-01 was a Thursday: Monday-based weekday is (day + 3) mod 7.
            let start = (day - floorMod(day + 3, 7)) * dayMillis
            return LeaderboardPeriod(kind: .week, startsAt: start, endsAt: start + 7 * dayMillis)
        case .month:
            let (y, m, _) = civil(fromDays: day)
            let start = days(year: y, month: m, day: 1) * dayMillis
            let end = (m == 12 ? days(year: y + 1, month: 1, day: 1) : days(year: y, month: m + 1, day: 1)) * dayMillis
            return LeaderboardPeriod(kind: .month, startsAt: start, endsAt: end)
        }
    }

    /// The last period of `kind` that ended at or before `millis`.
    public static func lastEnded(before millis: Int64, kind: Kind) -> LeaderboardPeriod {
        containing(containing(millis, kind: kind).startsAt - 1, kind: kind)
    }

    public var description: String {
        let (y, m, d) = Self.civil(fromDays: Self.floorDiv(startsAt, Self.dayMillis))
        return "\(kind.rawValue) " + String(format: "%04d-%02d-%02d", y, m, d)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// Howard Hinnant's days-from-civil, proleptic Gregorian, so no calendar or time zone is involved.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension LeaderboardPeriod {
    /// The UTC day of `millis` as `YYYY-MM-DD`.
    public static func utcDay(_ millis: Int64) -> String {
        let (y, m, d) = civil(fromDays: floorDiv(millis, dayMillis))
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// Whether `text` is a real calendar date written `YYYY-MM-DD`.
    public static func isValidDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int64(parts[0]), let m = Int64(parts[1]), let d = Int64(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { return false }
        let (y2, m2, d2) = civil(fromDays: days(year: y, month: m, day: d))
        return (y2, m2, d2) == (y, m, d)
    }
}
