/// How a fetched job ends this delivery.
public struct JobCompletion: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// Run again at `at` (ms) as the next attempt; `error` joins the history.
        case retry(at: Int64, error: AttemptError)
        /// Run again at `at` (ms) with the same attempt; `outage` when it waits out an outage.
        case snooze(at: Int64, outage: Bool = false)
        /// Into the dead-letter queue.
        case dead(reason: DeadReason, error: AttemptError)
        /// Ended by an expected refusal: final, with its reason in the job's record, and not a dead letter.
        case rejected(reason: String)
    }

    public let job: FetchedJob
    public let outcome: Outcome

    public init(job: FetchedJob, outcome: Outcome) {
        self.job = job
        self.outcome = outcome
    }

    public static func succeeded(_ job: FetchedJob) -> JobCompletion { .init(job: job, outcome: .succeeded) }

    /// The envelope to store for the next run, per the outcome.
    public var nextEnvelope: JobEnvelope {
        var e = job.envelope
        switch outcome {
        case .succeeded, .rejected: break
        case .retry(let at, let error):
            e.attempt += 1
            e.errors.append(error)
            e.notBefore = at
        case .snooze(let at, let outage):
            e.snoozes += 1
            if outage { e.outages += 1 }
            e.notBefore = at
        case .dead(_, let error):
            e.errors.append(error)
        }
        return e
    }
}
