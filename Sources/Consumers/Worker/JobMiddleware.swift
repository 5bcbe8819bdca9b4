import Jobs

/// Work that wraps every job a worker runs (metrics, tracing, mapping a library's errors to
/// job outcomes), so the runtime itself stays free of it.
///
/// The worker's own middleware (`WorkerService.Configuration.middleware`) runs outermost, then
/// the handlers' (`JobHandlers.use`), in the order they were added.
public protocol JobMiddleware: Sendable {
    /// Runs around the handler of a registered kind. Call `next` once to run the rest of the
    /// chain and the handler; what it throws is the job's failure unless this throws another.
    func run(_ job: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws
    /// How a job ended, once the worker decided: after its retry policy, a timeout, poison or
    /// an unknown kind. Called for every job, registered kind or not.
    func ended(_ end: JobEnd)
}

extension JobMiddleware {
    public func run(_ job: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        try await next(job)
    }

    public func ended(_ end: JobEnd) {}
}
