/// Filters for listing dead letters.
public struct DeadLetterFilter: Sendable, Equatable {
    public var kind: String?
    /// Only entries that died at or after this time (ms).
    public var since: Int64?
    public var limit: Int

    public init(kind: String? = nil, since: Int64? = nil, limit: Int = 100) {
        self.kind = kind
        self.since = since
        self.limit = limit
    }

    public func matches(_ d: DeadLetter) -> Bool {
        if let kind, d.kind != kind { return false }
        if let since, d.failedAt < since { return false }
        return true
    }
}
