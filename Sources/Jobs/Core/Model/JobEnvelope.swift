import Foundation

/// What a stream entry holds: a job of some kind with its JSON payload and delivery facts.
///
/// The wire format is a flat list of stream fields, documented in
/// `schemas/jobs/envelope.schema.json`, so any Redis client can enqueue with a plain XADD.
public struct JobEnvelope: Sendable, Equatable {
    public var id: JobID
    public var kind: String
    /// The payload as JSON text, kept as bytes so it is decoded once, by the handler.
    public var payload: [UInt8]
    /// The attempt this delivery runs, from 1.
    public var attempt: Int
    /// When the job was first enqueued, in milliseconds since the epoch.
    public var enqueuedAt: Int64
    /// Not to run before this time (milliseconds since the epoch).
    public var notBefore: Int64?
    public var idempotencyKey: String?
    /// A digest of the request behind the job, kept with its idempotency key (not in the entry): a
    /// repeat of the key with another digest is a different request, and `EnqueueResult` says so.
    public var idempotencyFingerprint: String?
    /// A W3C `traceparent` value.
    public var traceContext: String?
    /// Who asked for the job, e.g. `tg:42` for a Telegram user; the front shows a user their own jobs only.
    public var owner: String?
    /// How often the job was snoozed; snoozes use no attempt.
    public var snoozes: Int
    /// How many of those snoozes waited out an outage. Counted apart from the others: a producer
    /// that snoozes every second for hours must still wait out the next outage.
    public var outages: Int
    /// How often an operator sent it back from the dead-letter queue.
    public var redrives: Int
    /// The errors of earlier attempts, oldest first.
    public var errors: [AttemptError]

    public init(
        id: JobID, kind: String, payload: [UInt8], attempt: Int = 1, enqueuedAt: Int64, notBefore: Int64? = nil,
        idempotencyKey: String? = nil, traceContext: String? = nil, owner: String? = nil, snoozes: Int = 0,
        redrives: Int = 0, errors: [AttemptError] = [], idempotencyFingerprint: String? = nil, outages: Int = 0
    ) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.attempt = attempt
        self.enqueuedAt = enqueuedAt
        self.notBefore = notBefore
        self.idempotencyKey = idempotencyKey
        self.idempotencyFingerprint = idempotencyFingerprint
        self.traceContext = traceContext
        self.owner = owner
        self.snoozes = snoozes
        self.outages = outages
        self.redrives = redrives
        self.errors = errors
    }

    /// The envelope a dead letter runs under when an operator retries it: attempts and errors
    /// reset, due at once, and the redrive counted.
    public func redriven() -> JobEnvelope {
        var copy = self
        copy.attempt = 1
        copy.errors = []
        copy.notBefore = nil
        copy.redrives += 1
        return copy
    }

    /// Stream field names, in one place.
    public enum Field {
        public static let id = "id"
        public static let kind = "kind"
        public static let payload = "payload"
        public static let attempt = "attempt"
        public static let enqueuedAt = "enqueued_at"
        public static let notBefore = "not_before"
        public static let idempotencyKey = "idempotency_key"
        public static let traceContext = "trace_context"
        public static let owner = "owner"
        public static let snoozes = "snoozes"
        public static let outages = "outages"
        public static let redrives = "redrives"
        public static let errors = "errors"
        public static let all: Set<String> = [
            id, kind, payload, attempt, enqueuedAt, notBefore, idempotencyKey, traceContext, owner, snoozes, outages, redrives, errors,
        ]
    }

    /// The stream fields, in order, for XADD. Optional fields at their defaults are left out.
    public func fields() -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = [
            (Field.id, Array(id.rawValue.utf8)),
            (Field.kind, Array(kind.utf8)),
            (Field.payload, payload),
            (Field.enqueuedAt, Array(String(enqueuedAt).utf8)),
        ]
        if attempt != 1 { out.append((Field.attempt, Array(String(attempt).utf8))) }
        if let notBefore { out.append((Field.notBefore, Array(String(notBefore).utf8))) }
        if let idempotencyKey { out.append((Field.idempotencyKey, Array(idempotencyKey.utf8))) }
        if let traceContext { out.append((Field.traceContext, Array(traceContext.utf8))) }
        if let owner { out.append((Field.owner, Array(owner.utf8))) }
        if snoozes > 0 { out.append((Field.snoozes, Array(String(snoozes).utf8))) }
        if outages > 0 { out.append((Field.outages, Array(String(outages).utf8))) }
        if redrives > 0 { out.append((Field.redrives, Array(String(redrives).utf8))) }
        if !errors.isEmpty { out.append((Field.errors, Self.encodeErrors(errors))) }
        return out
    }

    /// Decodes stream fields, checking each against `schemas/jobs/envelope.schema.json`.
    /// `entryMillis` (the stream id's time) stands in for a missing `enqueued_at`, so foreign
    /// producers may leave it out. Every number is bounded here, so no arithmetic on a decoded
    /// value can overflow later.
    public init(fields: [(String, [UInt8])], entryMillis: Int64? = nil) throws(JobsError) {
        guard fields.count <= Limits.maxFields else {
            throw Self.bad("\(fields.count) fields; an entry has at most \(Limits.maxFields)")
        }
        var id: JobID?
        var kind: String?
        var payload: [UInt8]?
        var attempt = 1
        var enqueuedAt: Int64? = entryMillis.flatMap { (0...Limits.maxMillis).contains($0) ? $0 : nil }
        var notBefore: Int64?
        var idem: String?
        var trace: String?
        var owner: String?
        var snoozes = 0
        var outages = 0
        var redrives = 0
        var errors: [AttemptError] = []
        for (name, value) in fields {
            switch name {
            case Field.id:
                guard (1...128).contains(value.count), value.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                    throw Self.bad("field 'id' must be 1-128 printable ASCII characters")
                }
                id = JobID(rawValue: String(decoding: value, as: UTF8.self))
            case Field.kind:
                guard Self.isKindName(value) else {
                    throw Self.bad("field 'kind' must match ^[a-z0-9._-]{1,64}$ (\(value.count) bytes given)")
                }
                kind = String(decoding: value, as: UTF8.self)
            case Field.payload: payload = value
            case Field.attempt: attempt = Int(try Self.int(value, name, in: 1...Limits.maxAttempt))
            case Field.enqueuedAt: enqueuedAt = try Self.int(value, name, in: 0...Limits.maxMillis)
            case Field.notBefore: notBefore = try Self.int(value, name, in: 0...Limits.maxMillis)
            case Field.idempotencyKey: idem = try Self.text(value, name, maxBytes: 512)
            case Field.traceContext:
                // Tracing is best effort: a malformed traceparent is dropped, the job still runs.
                trace = Self.isTraceParent(value) ? String(decoding: value, as: UTF8.self) : nil
            case Field.owner: owner = try Self.text(value, name, maxBytes: 128)
            case Field.snoozes: snoozes = Int(try Self.int(value, name, in: 0...Limits.maxCount))
            case Field.outages: outages = Int(try Self.int(value, name, in: 0...Limits.maxCount))
            case Field.redrives: redrives = Int(try Self.int(value, name, in: 0...Limits.maxCount))
            case Field.errors: errors = try Self.decodeErrors(value)
            default: continue
            }
        }
        guard let id else { throw Self.bad("missing field 'id'") }
        guard let kind else { throw Self.bad("missing field 'kind'") }
        guard let payload else { throw Self.bad("missing field 'payload'") }
        guard let enqueuedAt else { throw Self.bad("missing field 'enqueued_at'") }
        self.init(
            id: id, kind: kind, payload: payload, attempt: attempt, enqueuedAt: enqueuedAt, notBefore: notBefore,
            idempotencyKey: idem, traceContext: trace, owner: owner, snoozes: snoozes, redrives: redrives, errors: errors,
            outages: outages)
    }

    /// The bounds decoding enforces; the schema states the same ones.
    public enum Limits {
        /// Stream fields in one entry.
        public static let maxFields = 256
        /// 9999-12-31T23:59:59.999Z, the latest time a field may name.
        public static let maxMillis: Int64 = 253_402_300_799_999
        public static let maxAttempt: Int64 = 1_000_000
        /// Snoozes and redrives.
        public static let maxCount: Int64 = 1_000_000_000
    }

    /// Whether `bytes` is a kind name as the schema allows: `^[a-z0-9._-]{1,64}$`.
    public static func isKindName<S: Collection<UInt8>>(_ bytes: S) -> Bool {
        (1...64).contains(bytes.count)
            && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// `^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`
    static func isTraceParent(_ value: [UInt8]) -> Bool {
        guard value.count == 55 else { return false }
        for (i, b) in value.enumerated() {
            if i == 2 || i == 35 || i == 52 {
                guard b == 0x2D else { return false }
            } else {
                guard (0x30...0x39).contains(b) || (0x61...0x66).contains(b) else { return false }
            }
        }
        return true
    }

    private static func bad(_ message: String) -> JobsError { JobsError(.encoding, message) }

    /// Base-10 digits only (no sign, no spaces), within `range`.
    private static func int(_ value: [UInt8], _ name: String, in range: ClosedRange<Int64>) throws(JobsError) -> Int64 {
        guard !value.isEmpty, value.count <= 19, value.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw bad("field '\(name)' is not a non-negative base-10 integer")
        }
        var n: Int64 = 0
        for digit in value {
            let (times, o1) = n.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(digit - 0x30))
            guard !o1, !o2 else { throw bad("field '\(name)' must be within \(range.lowerBound)...\(range.upperBound)") }
            n = sum
        }
        guard range.contains(n) else { throw bad("field '\(name)' must be within \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    private static func text(_ value: [UInt8], _ name: String, maxBytes: Int) throws(JobsError) -> String {
        guard value.count <= maxBytes else { throw bad("field '\(name)' is longer than \(maxBytes) bytes") }
        guard let text = String(validating: value, as: UTF8.self) else { throw bad("field '\(name)' is not UTF-8") }
        return text
    }

    static func encodeErrors(_ errors: [AttemptError]) -> [UInt8] {
        (try? JSONCoding.encoder.encode(errors)).map { Array($0) } ?? Array("[]".utf8)
    }

    static func decodeErrors(_ value: [UInt8]) throws(JobsError) -> [AttemptError] {
        let errors: [AttemptError]
        do {
            errors = try JSONCoding.decoder.decode([AttemptError].self, from: Data(value))
        } catch {
            throw bad("field 'errors' is not a JSON array of {attempt, at, error}")
        }
        guard errors.allSatisfy({ (1...Limits.maxAttempt).contains(Int64($0.attempt)) && (0...Limits.maxMillis).contains($0.at) }) else {
            throw bad("field 'errors' holds an attempt or a time out of range")
        }
        return errors
    }
}
