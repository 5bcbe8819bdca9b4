import Synchronization

/// The board in memory, for tests and single-process tools.
public final class MemoryBroadcastBoard: BroadcastBoard {
    private struct State {
        var byID: [Int64: BroadcastStatus] = [:]
        var byRequest: [String: Int64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func publish(_ status: BroadcastStatus, requestID: String?) async throws -> Bool {
        state.withLock { state in
            if let old = state.byID[status.id], old.version > status.version { return false }
            state.byID[status.id] = status
            if let requestID { state.byRequest[requestID] = status.id }
            return true
        }
    }

    public func status(id: Int64) async throws -> BroadcastStatus? { state.withLock { $0.byID[id] } }

    public func status(requestID: String) async throws -> BroadcastStatus? {
        state.withLock { state in state.byRequest[requestID].flatMap { state.byID[$0] } }
    }

    public func list(limit: Int, beforeID: Int64?) async throws -> [BroadcastStatus] {
        state.withLock { state in
            state.byID.keys.filter { beforeID == nil || $0 < beforeID! }.sorted(by: >).prefix(max(0, limit)).compactMap { state.byID[$0] }
        }
    }
}
