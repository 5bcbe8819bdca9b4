/// A broadcast as an operator sees it: workers publish it to the board, the CLI and the front
/// show it, all with this one type.
public struct BroadcastStatus: Sendable, Equatable, Codable {
    public let id: Int64
    public let status: State
    public let text: String
    public let parseMode: String
    public let photoURL: String?
    public let target: String
    public let telegramID: Int64?
    public let paid: Bool
    public let scheduledAt: Int64?
    public let createdAt: Int64
    public let startedAt: Int64?
    public let completedAt: Int64?
    public let cancelledAt: Int64?
    /// False while recipients are still being queued; `total` is still growing then.
    public let fanoutDone: Bool
    public let total: Int64
    public let sent: Int64
    public let failed: Int64
    public let cancelled: Int64
    /// Queued and not yet ended.
    public let pending: Int64
    /// The fan-out job, or the delayed job of a scheduled broadcast.
    public let jobID: String?

    /// Where a broadcast is in its life; the raw values are the `broadcasts.status` column's.
    public enum State: String, Sendable, Codable, CaseIterable {
        case pending = "PENDING"
        case processing = "PROCESSING"
        case completed = "COMPLETED"
        case cancelled = "CANCELLED"

        /// PENDING and PROCESSING broadcasts can still be cancelled.
        public var isCancellable: Bool { self == .pending || self == .processing }
        public var isFinal: Bool { !isCancellable }
    }

    public init(
        id: Int64, status: State, text: String, parseMode: String, photoURL: String?, target: String, telegramID: Int64?, paid: Bool,
        scheduledAt: Int64?, createdAt: Int64, startedAt: Int64?, completedAt: Int64?, cancelledAt: Int64?, fanoutDone: Bool,
        total: Int64, sent: Int64, failed: Int64, cancelled: Int64, pending: Int64, jobID: String?
    ) {
        self.id = id
        self.status = status
        self.text = text
        self.parseMode = parseMode
        self.photoURL = photoURL
        self.target = target
        self.telegramID = telegramID
        self.paid = paid
        self.scheduledAt = scheduledAt
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.cancelledAt = cancelledAt
        self.fanoutDone = fanoutDone
        self.total = total
        self.sent = sent
        self.failed = failed
        self.cancelled = cancelled
        self.pending = pending
        self.jobID = jobID
    }

    /// Messages that ended: sent, failed or dropped by a cancel.
    public var ended: Int64 { sent + failed + cancelled }

    /// Grows with every change (status rank, then total and ended counts), so a board never
    /// lets an older status replace a newer one, however two workers' writes interleave.
    public var version: Int64 {
        let rank: Int64 =
            switch status {
            case .pending: 0
            case .processing: 1
            case .completed, .cancelled: 2
            }
        return rank << 50 + min(total + ended, 1 << 49)
    }

    enum CodingKeys: String, CodingKey {
        case id, status, text, parseMode = "parse_mode", photoURL = "photo_url", target, telegramID = "telegram_id", paid
        case scheduledAt = "scheduled_at_ms", createdAt = "created_at_ms", startedAt = "started_at_ms"
        case completedAt = "completed_at_ms", cancelledAt = "cancelled_at_ms", fanoutDone = "fanout_done", total, sent, failed
        case cancelled, pending, jobID = "job_id"
    }
}
