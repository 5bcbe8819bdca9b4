/// Appends an entry as a foreign producer would, fields as given and unchecked, so tests and
/// tools can see how the driver treats entries this platform did not write.
public protocol RawEntryDriver: Sendable {
    /// Returns the new entry's id.
    @discardableResult
    func appendRaw(queue: QueueName, fields: [(String, String)]) async throws -> String
}
