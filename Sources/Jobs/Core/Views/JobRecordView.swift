import Foundation

/// A job as `thepred jobs show --json` and `GET /v1/jobs/{id}` show it: one shape, one set of
/// field names. Users see their own jobs without the fields marked admin.
public struct JobRecordView: Encodable, Sendable {
    public let jobID: String
    public let kind: String?
    public let queue: String
    public let status: String
    public let attempt: Int?
    public let enqueuedAtMillis: Int64?
    public let dueAtMillis: Int64?
    public let updatedAtMillis: Int64?
    public let lastError: String?
    // Admin only.
    public private(set) var owner: String?
    public private(set) var consumer: String?
    public private(set) var deadLetterID: String?
    /// The payload as the JSON it is; a payload that is not JSON is shown as a string.
    public private(set) var payload: JSONTree?
    public private(set) var errors: [AttemptError]?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", kind, queue, status, attempt, enqueuedAtMillis = "enqueued_at_ms", dueAtMillis = "due_at_ms"
        case updatedAtMillis = "updated_at_ms", lastError = "last_error", owner, consumer, deadLetterID = "dead_letter_id"
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
        lastError = r.lastError
        if admin {
            owner = r.owner
            consumer = r.consumer
            deadLetterID = r.deadLetterID
            payload = r.envelope.map { JSONTree(parsing: $0.payload) }
            errors = r.envelope?.errors
        }
    }
}
