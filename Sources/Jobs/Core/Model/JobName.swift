/// The name of a job kind, such as `telegram.send`. Same alphabet as queue names.
public struct JobName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(validating rawValue: String) throws(JobsError) {
        guard QueueName.isValid(rawValue) else {
            throw JobsError(.invalidName, "invalid job kind name '\(rawValue)': use 1-64 of a-z 0-9 . _ -")
        }
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        precondition(QueueName.isValid(value), "invalid job kind name '\(value)'")
        rawValue = value
    }

    public var description: String { rawValue }
}
