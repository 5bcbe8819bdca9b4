/// The dead-letter queue of each queue.
public protocol DeadLetterDriver: Sendable {
    func deadLetters(queue: QueueName, filter: DeadLetterFilter) async throws -> [DeadLetter]
    /// One entry by its dead-letter id, or by its job id.
    func deadLetter(_ id: String, queue: QueueName) async throws -> DeadLetter?
    /// Enqueues the entries afresh, attempts reset, and removes them from the dead-letter queue.
    func redrive(_ ids: [String], queue: QueueName) async throws -> [RedriveResult]
    /// Removes entries; returns how many were there.
    func deleteDeadLetters(_ ids: [String], queue: QueueName) async throws -> Int
}
