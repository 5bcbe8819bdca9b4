/// Shared state of every scheduler process: who leads, and which tick each schedule last ran.
public protocol SchedulerCoordinator: Sendable {
    /// Takes the leader lock, or renews it when `holder` has it. True while `holder` leads.
    func lead(holder: String, ttl: Duration) async throws -> Bool
    /// Gives the lock up if `holder` has it.
    func resign(holder: String) async throws
    func lastTick(of schedule: String) async throws -> Int64?
    /// Records a tick; an older tick than the one recorded is ignored.
    func recordTick(_ tick: Int64, of schedule: String) async throws
}
