import Foundation

/// A request field that breaks a rule: which field, and why, in words an operator can act on.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}
