import Synchronization

/// One broadcast's status as JSON, as the workers last saw it in PostgreSQL.
///
/// The HTTP front has no database, so it serves `GET /v1/admin/broadcasts` from these.
public struct BroadcastSnapshot: Sendable, Equatable {
    public var id: Int64
    /// The id of the `broadcast.create` job that made it, when a job did.
    public var requestID: String?
    /// Grows with every change (status rank, then ended and queued counts); an older snapshot
    /// never replaces a newer one, however the writes of two workers interleave.
    public var version: Int64
    /// The status document (the JSON of `BroadcastStatus`), passed through as is.
    public var json: [UInt8]

    public init(id: Int64, requestID: String?, version: Int64, json: [UInt8]) {
        self.id = id
        self.requestID = requestID
        self.version = version
        self.json = json
    }

    /// The version of a status: rank (PENDING 0, PROCESSING 1, final 2) first, then progress.
    public static func version(status: String, total: Int64, ended: Int64) -> Int64 {
        let rank: Int64 = switch status {
        case "PENDING": 0
        case "PROCESSING": 1
        default: 2
        }
        return rank << 50 + min(total + ended, 1 << 49)
    }
}

/// Where workers publish broadcast statuses and the front reads them.
public protocol BroadcastBoard: Sendable {
    /// Stores the snapshot unless the board holds a newer version. Returns whether it was stored.
    @discardableResult
    func publish(_ snapshot: BroadcastSnapshot) async throws -> Bool
    /// The status by broadcast id.
    func status(id: Int64) async throws -> [UInt8]?
    /// The status by the id of the `broadcast.create` job that made it.
    func status(requestID: String) async throws -> [UInt8]?
    /// The newest first, at most `limit`, with ids below `beforeID` when given.
    func list(limit: Int, beforeID: Int64?) async throws -> [[UInt8]]
}

/// The board in memory, for tests and single-process tools.
public final class MemoryBroadcastBoard: BroadcastBoard {
    private struct State {
        var byID: [Int64: BroadcastSnapshot] = [:]
        var byRequest: [String: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func publish(_ snapshot: BroadcastSnapshot) async throws -> Bool {
        state.withLock { state in
            if let old = state.byID[snapshot.id], old.version > snapshot.version { return false }
            state.byID[snapshot.id] = snapshot
            if let request = snapshot.requestID { state.byRequest[request] = snapshot.id }
            return true
        }
    }

    public func status(id: Int64) async throws -> [UInt8]? { state.withLock { $0.byID[id]?.json } }

    public func status(requestID: String) async throws -> [UInt8]? {
        state.withLock { state in state.byRequest[requestID].flatMap { state.byID[$0]?.json } }
    }

    public func list(limit: Int, beforeID: Int64?) async throws -> [[UInt8]] {
        state.withLock { state in
            state.byID.keys.filter { beforeID == nil || $0 < beforeID! }.sorted(by: >).prefix(max(0, limit))
                .compactMap { state.byID[$0]?.json }
        }
    }
}
