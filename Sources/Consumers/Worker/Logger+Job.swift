import Foundation
import Jobs
import Logging

extension Logger {
    /// A job's logger: every line names the job, its kind, queue and attempt (the JSON log's fields).
    func with(_ job: FetchedJob) -> Logger {
        var copy = self
        copy[metadataKey: "job"] = "\(job.envelope.id)"
        copy[metadataKey: "kind"] = "\(job.envelope.kind.prefix(64))"
        copy[metadataKey: "queue"] = "\(job.queue)"
        copy[metadataKey: "attempt"] = "\(job.envelope.attempt)"
        return copy
    }
}
