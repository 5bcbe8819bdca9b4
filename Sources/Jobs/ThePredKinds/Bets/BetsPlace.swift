import Jobs

/// `bets.place`: one user's bet on one market. The user is named by Telegram id, because the
/// HTTP front knows no database ids; a user seen for the first time is registered with 10,000 PRED.
///
/// Idempotent on the job id: however often the job runs, the bet is placed once.
public struct BetsPlace: Codable, Sendable, Equatable {
    public var telegramID: Int64
    /// Stored for a user seen for the first time.
    public var username: String?
    public var marketID: Int64
    public var outcome: BetOutcome
    /// Whole PRED, at least 1 and at most the balance.
    public var stake: Int64

    public init(telegramID: Int64, username: String? = nil, marketID: Int64, outcome: BetOutcome, stake: Int64) {
        self.telegramID = telegramID
        self.username = username
        self.marketID = marketID
        self.outcome = outcome
        self.stake = stake
    }

    enum CodingKeys: String, CodingKey {
        case telegramID = "telegram_id", username, marketID = "market_id", outcome, stake
    }

    /// Business-rule failures (market closed, insufficient balance) are permanent; only a
    /// database that cannot be reached is retried.
    public static let kind = JobKind<BetsPlace>(
        "bets.place", queue: "bets", retry: .exponentialJitter(maxAttempts: 8, maxBackoff: .seconds(60)), timeout: .seconds(30))
}

extension BetsPlace: SelfEncodingPayload {
    /// What JSONCoding.encoder writes (sorted keys, no username when there is none), without its
    /// cost: the front enqueues one per request.
    public func jsonBytes() -> [UInt8] {
        var out = Array(#"{"market_id":"#.utf8)
        out += String(marketID).utf8
        out += #","outcome":"#.utf8
        JSONText.appendString(outcome.rawValue, to: &out)
        out += #","stake":"#.utf8
        out += String(stake).utf8
        out += #","telegram_id":"#.utf8
        out += String(telegramID).utf8
        if let username {
            out += #","username":"#.utf8
            JSONText.appendString(username, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
