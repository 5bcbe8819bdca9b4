/// Where workers publish broadcast statuses and the front reads them. The front has no database,
/// so it serves `GET /v1/admin/broadcasts` from here.
public protocol BroadcastBoard: Sendable {
    /// Stores the status unless the board holds a newer version (`BroadcastStatus.version`).
    /// `requestID` is the id of the `broadcast.create` job that made it, when a job did.
    /// Returns whether it was stored.
    @discardableResult
    func publish(_ status: BroadcastStatus, requestID: String?) async throws -> Bool
    /// The status by broadcast id.
    func status(id: Int64) async throws -> BroadcastStatus?
    /// The status by the id of the `broadcast.create` job that made it.
    func status(requestID: String) async throws -> BroadcastStatus?
    /// The newest first, at most `limit`, with ids below `beforeID` when given.
    func list(limit: Int, beforeID: Int64?) async throws -> [BroadcastStatus]
}
