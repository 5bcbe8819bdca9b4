/// A consumer as the CLI lists it.
public struct ConsumerStatus: Sendable, Equatable, Codable {
    public var info: ConsumerInfo
    public var lastBeat: Int64
    /// Jobs it holds in the stream's pending list.
    public var pending: Int

    public init(info: ConsumerInfo, lastBeat: Int64, pending: Int) {
        self.info = info
        self.lastBeat = lastBeat
        self.pending = pending
    }
}
