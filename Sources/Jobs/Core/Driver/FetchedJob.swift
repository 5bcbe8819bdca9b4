/// A job handed to a consumer.
public struct FetchedJob: Sendable, Equatable {
    public let queue: QueueName
    /// The stream entry id: the handle for ack, retry and bury.
    public let entryID: String
    public let envelope: JobEnvelope
    /// How many times this entry has been delivered, this time included.
    public let deliveries: Int
    /// The consumer this delivery went to. A completion counts only while the entry is still
    /// this consumer's: once another consumer has taken it over, a late outcome changes nothing.
    public let consumer: String

    public init(queue: QueueName, entryID: String, envelope: JobEnvelope, deliveries: Int, consumer: String) {
        self.queue = queue
        self.entryID = entryID
        self.envelope = envelope
        self.deliveries = deliveries
        self.consumer = consumer
    }
}
