/// Why seeding refused to start or stopped; nothing was written.
public struct SeederError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}
