import Foundation

/// A job as `thepred jobs show --json` and `GET /v1/jobs/{id}` show it: one shape, one set of
/// field names. Users see their own jobs without the fields marked admin, and see `last_error`
/// only where it is a reason written for them: a rejection's ("insufficient balance") or a
/// permanent failure's. Anywhere else it can be PostgreSQL's or Redis's own text (a host name,
/// a SQLSTATE, a constraint), so users get `error_code` instead and admins keep the text.
public struct JobRecordView: Encodable, Sendable {
    public let jobID: String
    public let kind: String?
    public let queue: String
    public let status: String
    public let attempt: Int?
    public let enqueuedAtMillis: Int64?
    public let dueAtMillis: Int64?
    public let updatedAtMillis: Int64?
    public private(set) var lastError: String?
    /// What kind of failure it was, when `last_error` is not shown: `transient_failure` (a retry is
    /// due), or the dead-letter reason (`exhausted`, `poison`, `unknown_kind`, `undecodable`).
    public private(set) var errorCode: String?
    // Admin only.
    public private(set) var owner: String?
    public private(set) var consumer: String?
    public private(set) var deadLetterID: String?
    /// The payload as the JSON it is; a payload that is not JSON is shown as a string.
    public private(set) var payload: JSONTree?
    public private(set) var errors: [AttemptError]?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", kind, queue, status, attempt, enqueuedAtMillis = "enqueued_at_ms", dueAtMillis = "due_at_ms"
        case updatedAtMillis = "updated_at_ms", lastError = "last_error", errorCode = "error_code", owner, consumer, deadLetterID =
            "dead_letter_id"
        case payload, errors
    }

    public init(_ r: JobRecord, admin: Bool) {
        jobID = r.id.rawValue
        kind = r.kind
        queue = r.queue.rawValue
        status = r.status.rawValue
        attempt = r.attempt
        enqueuedAtMillis = r.envelope?.enqueuedAt
        dueAtMillis = r.dueAt
        updatedAtMillis = r.updatedAt
        if admin || r.status == .rejected || (r.status == .dead && r.deadReason == .permanent) {
            lastError = r.lastError
        } else if r.lastError != nil, r.status == .retrying || r.status == .dead {
            // Only where the error still says something: a job that retried and then succeeded
            // keeps its last error in the record, but it no longer failed.
            errorCode = r.status == .dead ? (r.deadReason?.rawValue ?? "failed") : "transient_failure"
        }
        if admin {
            owner = r.owner
            consumer = r.consumer
            deadLetterID = r.deadLetterID
            payload = r.envelope.map { JSONTree(parsing: $0.payload) }
            errors = r.envelope?.errors
        }
    }
}
