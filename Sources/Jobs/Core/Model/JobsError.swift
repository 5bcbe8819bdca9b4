/// An error of the job platform, with an opaque code so new cases never break callers.
public struct JobsError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: String, Sendable { case invalidName, duplicateKind, unknownKind, encoding, notFound, conflict, driver, invalidArgument }
        let value: Value
        public static let invalidName = Code(value: .invalidName)
        public static let duplicateKind = Code(value: .duplicateKind)
        public static let unknownKind = Code(value: .unknownKind)
        public static let encoding = Code(value: .encoding)
        public static let notFound = Code(value: .notFound)
        public static let conflict = Code(value: .conflict)
        public static let driver = Code(value: .driver)
        /// A setting or an argument out of its range.
        public static let invalidArgument = Code(value: .invalidArgument)
        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
