import Jobs

/// `missions.progress`: something happened that may advance a user's missions.
///
/// Progress is recomputed from the user's recorded state (bets, wins, streak peak, volume, active
/// days, referrals), so events are triggers: one replayed, late or out of order cannot count twice.
/// The event id is recorded too, and a seen id is skipped.
public struct MissionsProgress: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable, CaseIterable {
        case betPlaced = "bet_placed"
        case betSettled = "bet_settled"
        case referral
        /// Records `day` (or the day the job was enqueued, UTC) as an active day of the user.
        case dailyActivity = "daily_activity"
    }

    /// Unique per event, e.g. `bet:42` or `daily:<telegram_id>:2026-11-25`.
    public var eventID: String
    public var event: Event
    /// The user, by database id …
    public var userID: Int64?
    /// … or by Telegram id, as the HTTP front knows them. A daily activity registers a new user.
    public var telegramID: Int64?
    /// `YYYY-MM-DD` (UTC) for daily_activity.
    public var day: String?

    public init(eventID: String, event: Event, userID: Int64? = nil, telegramID: Int64? = nil, day: String? = nil) {
        self.eventID = eventID
        self.event = event
        self.userID = userID
        self.telegramID = telegramID
        self.day = day
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", event, userID = "user_id", telegramID = "telegram_id", day
    }

    public static let kind = JobKind<MissionsProgress>(
        "missions.progress", queue: "missions", retry: .exponentialJitter(maxAttempts: 8, maxBackoff: .seconds(60)),
        timeout: .seconds(30))
}
