/// A driver that holds a resource per reading consumer (Redis: a blocking connection), which the
/// worker hands back when that consumer stops reading a queue.
public protocol ReaderReleasingDriver: Sendable {
    func releaseReader(queue: QueueName, consumer: String)
}
