import Foundation
import Jobs
import Logging
import Postgres
import ServiceLifecycle
import Synchronization
import ThePredKinds

/// Copies broadcast statuses from PostgreSQL to the board the HTTP front reads.
///
/// Sends only mark their broadcast as changed; the marked ones are published once per
/// `interval`. A paid broadcast ends a thousand messages a second, and a status read per
/// message would cost more than the sends. Creation and cancellation publish at once.
public final class BroadcastPublisher: Service {
    private let board: any BroadcastBoard
    private let db: any PostgresClient
    private let interval: Duration
    private let logger: Logger
    private let changedIDs = Mutex<Set<Int64>>([])

    public init(board: any BroadcastBoard, db: any PostgresClient, interval: Duration = .milliseconds(500), logger: Logger) {
        self.board = board
        self.db = db
        self.interval = interval
        self.logger = logger
    }

    /// Marks a broadcast as changed; the next tick publishes it.
    public func changed(_ id: Int64) { _ = changedIDs.withLock { $0.insert(id) } }

    /// Reads the broadcast's status and publishes it now.
    public func publish(_ id: Int64, requestID: String? = nil) async throws {
        guard let status = try await Broadcasts.status(id, db: db) else { return }
        try await publish(status, requestID: requestID)
    }

    public func publish(_ status: BroadcastStatus, requestID: String? = nil) async throws {
        try await board.publish(status, requestID: requestID)
    }

    /// Publishes every broadcast marked since the last flush.
    public func flush() async {
        let ids = changedIDs.withLock { ids in
            defer { ids.removeAll() }
            return ids
        }
        for id in ids.sorted() {
            do {
                try await publish(id)
            } catch {
                // Marked again, so the next tick retries; the board lags, nothing is lost.
                changed(id)
                logger.warning("cannot publish broadcast status", metadata: ["broadcast": "\(id)", "error": "\(error)"])
            }
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush()
        }
        // Not cancelled with the service: PostgreSQL calls of a cancelled task are cancelled too,
        // and the last statuses must still reach the board.
        await Task { await self.flush() }.value
    }
}
