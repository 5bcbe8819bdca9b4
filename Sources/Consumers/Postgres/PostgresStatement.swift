/// A statement run thousands of times a second, such as the delivery log's SENT write: each
/// connection prepares it once (parsed and analysed once, its plan cached by PostgreSQL's rules)
/// instead of on every call. Other statements stay unnamed and are planned for their values
/// every time, which heavy ones (a settlement chunk, an audit) need.
public struct PostgresStatement: Sendable, Hashable {
    public let sql: String
    public init(_ sql: String) { self.sql = sql }
}
