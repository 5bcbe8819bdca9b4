import Jobs

/// What ``JobClient/ensureProducer(_:_:key:replacements:)`` found or did.
public enum ProducerCheck: Sendable, Equatable {
    /// A job under the key (or under the latest replacement's) is queued, scheduled or running.
    case live(JobID)
    /// No job was under the key (never enqueued, its key expired, or Redis forgot it): this one
    /// starts the work.
    case started(JobID)
    /// The last producer had ended (dead, cancelled, finished or forgotten by Redis) and `new`
    /// now carries on its work; `replaced` is the job it follows.
    case replaced(JobID, new: JobID)
    /// `replacements` producers in a row ended without a live one: left to an operator, whose
    /// dead-letter queue holds them.
    case exhausted(last: JobID)
}

extension JobClient {
    /// Makes sure a live job carries on a long-lived producer (a broadcast's fan-out, a market's
    /// notifications) whose backlog is still open.
    ///
    /// The producer is enqueued under `key`. An idempotency key names its first job for 24 h, so
    /// a producer that was buried, or that Redis forgot, would keep the key, and a repeat would
    /// return the dead job. Each replacement is therefore enqueued under `<key>:after:<the job it
    /// replaces>`: two sweeps at once make one replacement, and the chain is followed to its
    /// latest job. After `replacements` links that all ended, no more are made.
    public func ensureProducer<P>(_ kind: JobKind<P>, _ payload: P, key: String, replacements: Int = 10) async throws
        -> ProducerCheck
    {
        guard let status = driver as? any JobStatusDriver else {
            throw JobsError(.driver, "the queue driver cannot read job statuses, so it cannot tell a live producer")
        }
        var previous: JobID?
        var current = key
        for _ in 0...replacements {
            let result = try await enqueue(kind, payload, options: .idempotent(current))
            if !result.duplicate { return previous.map { .replaced($0, new: result.id) } ?? .started(result.id) }
            if let record = try await status.job(result.id, queue: kind.queue), !record.status.isFinal { return .live(result.id) }
            previous = result.id
            current = "\(key):after:\(result.id)"
        }
        return .exhausted(last: previous!)
    }
}
