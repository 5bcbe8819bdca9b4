import Jobs

/// `markets.create`: an admin opens a market. Idempotent on the job id.
public struct MarketsCreate: Codable, Sendable, Equatable {
    /// 1 to 300 characters.
    public var title: String
    public var description: String
    public var category: MarketCategory
    /// When betting closes, in ms since the epoch; must be in the future when the job runs.
    public var endsAtMillis: Int64
    public var promoted: Bool

    public init(title: String, description: String = "", category: MarketCategory, endsAtMillis: Int64, promoted: Bool = false) {
        self.title = title
        self.description = description
        self.category = category
        self.endsAtMillis = endsAtMillis
        self.promoted = promoted
    }

    enum CodingKeys: String, CodingKey {
        case title, description, category, endsAtMillis = "ends_at_ms", promoted
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.decode(String.self, forKey: .title)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        category = try c.decode(MarketCategory.self, forKey: .category)
        endsAtMillis = try c.decode(Int64.self, forKey: .endsAtMillis)
        promoted = try c.decodeIfPresent(Bool.self, forKey: .promoted) ?? false
    }

    public static let kind = JobKind<MarketsCreate>(
        "markets.create", queue: "markets", retry: .exponentialJitter(maxAttempts: 8, maxBackoff: .seconds(60)), timeout: .seconds(30))
}
