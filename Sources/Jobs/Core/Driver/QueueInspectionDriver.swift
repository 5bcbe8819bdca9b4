/// Figures about queues and the consumers serving them.
public protocol QueueInspectionDriver: Sendable {
    /// Every queue that has been prepared.
    func knownQueues() async throws -> [QueueName]
    func stats(queue: QueueName) async throws -> QueueStats
    /// Registers `consumer` as alive, with what it holds, until `ttl` passes without another beat.
    func heartbeat(_ consumer: ConsumerInfo, queue: QueueName, ttl: Duration) async throws
    /// Removes a consumer that stopped cleanly.
    func unregister(consumer: String, queue: QueueName) async throws
    func consumers(queue: QueueName) async throws -> [ConsumerStatus]
}
