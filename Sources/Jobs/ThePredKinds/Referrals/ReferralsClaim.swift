import Jobs

/// `referrals.claim`: a user says who referred them, by the referrer's code. A user is referred
/// once; the referrer's REFERRAL mission advances.
public struct ReferralsClaim: Codable, Sendable, Equatable {
    public var telegramID: Int64
    public var username: String?
    /// The referrer's `referral_code`.
    public var code: String

    public init(telegramID: Int64, username: String? = nil, code: String) {
        self.telegramID = telegramID
        self.username = username
        self.code = code
    }

    enum CodingKeys: String, CodingKey { case telegramID = "telegram_id", username, code }

    public static let kind = JobKind<ReferralsClaim>(
        "referrals.claim", queue: "missions", retry: .exponentialJitter(maxAttempts: 8, maxBackoff: .seconds(60)),
        timeout: .seconds(30))
}
