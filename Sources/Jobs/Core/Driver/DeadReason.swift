/// Why a job went to the dead-letter queue.
public struct DeadReason: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The handler said the job can never succeed.
    public static let permanent = DeadReason(rawValue: "permanent")
    /// Every attempt of the retry policy failed.
    public static let exhausted = DeadReason(rawValue: "exhausted")
    /// Delivered too often without finishing: it crashes or hangs its workers.
    public static let poison = DeadReason(rawValue: "poison")
    /// The stream entry is not a job envelope.
    public static let undecodable = DeadReason(rawValue: "undecodable")
    /// No worker knows the job's kind.
    public static let unknownKind = DeadReason(rawValue: "unknown_kind")
    public var description: String { rawValue }
}
