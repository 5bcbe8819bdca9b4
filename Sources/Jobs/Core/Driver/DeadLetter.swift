/// One entry of a dead-letter queue.
public struct DeadLetter: Sendable, Equatable {
    /// The dead-letter stream id.
    public var id: String
    public var queue: QueueName
    public var jobID: String?
    public var kind: String?
    public var reason: DeadReason
    /// The last error, in words.
    public var message: String
    public var failedAt: Int64
    /// The envelope, or nil when the entry was undecodable.
    public var envelope: JobEnvelope?
    /// The stream fields as they came, for undecodable entries.
    public var rawFields: [(String, String)]

    public init(
        id: String, queue: QueueName, jobID: String?, kind: String?, reason: DeadReason, message: String,
        failedAt: Int64, envelope: JobEnvelope?, rawFields: [(String, String)]
    ) {
        self.id = id
        self.queue = queue
        self.jobID = jobID
        self.kind = kind
        self.reason = reason
        self.message = message
        self.failedAt = failedAt
        self.envelope = envelope
        self.rawFields = rawFields
    }

    public static func == (a: DeadLetter, b: DeadLetter) -> Bool {
        a.id == b.id && a.queue == b.queue && a.jobID == b.jobID && a.reason == b.reason && a.message == b.message
            && a.failedAt == b.failedAt && a.envelope == b.envelope
            && a.rawFields.map { $0.0 + "=" + $0.1 } == b.rawFields.map { $0.0 + "=" + $0.1 }
    }
}

extension DeadLetter {
    /// Reads a dead-letter stream entry: the dead_* fields, the job's fields, and raw.* fields
    /// of an entry that was never a job.
    public init(entryID id: String, fields: [(String, [UInt8])], queue: QueueName) {
        var reason = DeadReason.permanent
        var message = ""
        var failedAt = Int64(id.split(separator: "-").first ?? "") ?? 0
        var jobFields: [(String, [UInt8])] = []
        var raw: [(String, String)] = []
        for (name, value) in fields {
            switch name {
            case "dead_reason": reason = DeadReason(rawValue: String(decoding: value, as: UTF8.self))
            case "dead_message": message = String(decoding: value, as: UTF8.self)
            case "failed_at": failedAt = Int64(String(decoding: value, as: UTF8.self)) ?? failedAt
            case "raw_dropped", "fields_dropped": continue
            default:
                if name.hasPrefix("raw.") {
                    raw.append((String(name.dropFirst(4)), String(decoding: value, as: UTF8.self)))
                } else {
                    jobFields.append((name, value))
                }
            }
        }
        let envelope = jobFields.isEmpty ? nil : try? JobEnvelope(fields: jobFields)
        self.init(
            id: id, queue: queue, jobID: envelope?.id.rawValue ?? raw.first { $0.0 == JobEnvelope.Field.id }?.1,
            kind: envelope?.kind ?? raw.first { $0.0 == JobEnvelope.Field.kind }?.1, reason: reason, message: message,
            failedAt: failedAt, envelope: envelope, rawFields: raw)
    }
}

extension DeadLetter {
    /// Raw fields kept with an undecodable entry's dead letter. A hostile entry can have thousands
    /// of fields: the first of each envelope field (id, kind, payload, ...) is always kept, then
    /// others in order up to `keep` in all, as `raw.<name>`; `raw_dropped` counts the rest.
    public static func rawFields(_ fields: [(String, [UInt8])], keep: Int = 64) -> [(String, [UInt8])] {
        guard fields.count > keep else { return fields.map { ("raw." + $0.0, $0.1) } }
        var seen = Set<String>()
        var chosen = Set<Int>()
        for (i, field) in fields.enumerated() where JobEnvelope.Field.all.contains(field.0) && seen.insert(field.0).inserted {
            chosen.insert(i)
        }
        for i in fields.indices where chosen.count < keep { chosen.insert(i) }
        var out = fields.indices.filter(chosen.contains).map { ("raw." + fields[$0].0, fields[$0].1) }
        out.append(("raw_dropped", Array(String(fields.count - chosen.count).utf8)))
        return out
    }
}
