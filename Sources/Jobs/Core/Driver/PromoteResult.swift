/// What `promoteDue` did.
public struct PromoteResult: Sendable, Equatable {
    public let promoted: Int
    /// When the next delayed job is due (ms), if any waits.
    public let nextDue: Int64?

    public init(promoted: Int, nextDue: Int64?) {
        self.promoted = promoted
        self.nextDue = nextDue
    }
}
