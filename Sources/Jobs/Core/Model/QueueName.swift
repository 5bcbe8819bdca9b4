/// The name of a queue. Lowercase letters, digits, `.`, `_` and `-`, at most 64: queue names go
/// inside Redis hash tags, so braces and colons are kept out.
public struct QueueName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(validating rawValue: String) throws(JobsError) {
        guard Self.isValid(rawValue) else {
            throw JobsError(.invalidName, "invalid queue name '\(rawValue)': use 1-64 of a-z 0-9 . _ -")
        }
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        precondition(Self.isValid(value), "invalid queue name '\(value)'")
        rawValue = value
    }

    static func isValid(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.utf8.allSatisfy { c in
                (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45
            }
    }

    public var description: String { rawValue }
    public static func < (a: QueueName, b: QueueName) -> Bool { a.rawValue < b.rawValue }
}
