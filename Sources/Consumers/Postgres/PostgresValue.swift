import CLibpq
import Jobs
import Foundation

/// A value sent as a statement parameter. Values never go into SQL text.
public enum PostgresValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    case text(String)
    case null

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .text(String(value)) }
    public init(nilLiteral: ()) { self = .null }
    public static func int(_ v: Int64) -> PostgresValue { .text(String(v)) }
    public static func bool(_ v: Bool) -> PostgresValue { .text(v ? "true" : "false") }
}
