/// One error of one attempt, kept with the job so the dead-letter queue shows the whole history.
public struct AttemptError: Codable, Sendable, Equatable {
    public var attempt: Int
    /// Milliseconds since the epoch.
    public var at: Int64
    public var error: String

    public init(attempt: Int, at: Int64, error: String) {
        self.attempt = attempt
        self.at = at
        self.error = error
    }
}

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
    /// A W3C `traceparent` value.
    public var traceContext: String?
    /// Who asked for the job, e.g. `tg:42` for a Telegram user; the front shows a user their own jobs only.
    public var owner: String?
    /// How often the job was snoozed; snoozes use no attempt.
    public var snoozes: Int
    /// How often an operator sent it back from the dead-letter queue.
    public var redrives: Int
    /// The errors of earlier attempts, oldest first.
    public var errors: [AttemptError]

    public init(
        id: JobID, kind: String, payload: [UInt8], attempt: Int = 1, enqueuedAt: Int64, notBefore: Int64? = nil,
        idempotencyKey: String? = nil, traceContext: String? = nil, owner: String? = nil, snoozes: Int = 0,
        redrives: Int = 0, errors: [AttemptError] = []
    ) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.attempt = attempt
        self.enqueuedAt = enqueuedAt
        self.notBefore = notBefore
        self.idempotencyKey = idempotencyKey
        self.traceContext = traceContext
        self.owner = owner
        self.snoozes = snoozes
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
        public static let redrives = "redrives"
        public static let errors = "errors"
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
        if redrives > 0 { out.append((Field.redrives, Array(String(redrives).utf8))) }
        if !errors.isEmpty { out.append((Field.errors, Self.encodeErrors(errors))) }
        return out
    }

    /// Appends the fields to a command, as XADD wants them.
    public func appendFields(to command: inout RedisCommand) {
        for (name, value) in fields() {
            command.append(name)
            command.append(value)
        }
    }

    /// Decodes stream fields. `entryMillis` (the stream id's time) stands in for a missing
    /// `enqueued_at`, so foreign producers may leave it out.
    public init(fields: [(String, [UInt8])], entryMillis: Int64? = nil) throws(JobsError) {
        var id: JobID?
        var kind: String?
        var payload: [UInt8]?
        var attempt = 1
        var enqueuedAt: Int64? = entryMillis
        var notBefore: Int64?
        var idem: String?
        var trace: String?
        var owner: String?
        var snoozes = 0
        var redrives = 0
        var errors: [AttemptError] = []
        for (name, value) in fields {
            switch name {
            case Field.id:
                let text = String(decoding: value, as: UTF8.self)
                guard !text.isEmpty, text.utf8.count <= 128 else { throw Self.bad("id must be 1-128 characters") }
                id = JobID(rawValue: text)
            case Field.kind: kind = String(decoding: value, as: UTF8.self)
            case Field.payload: payload = value
            case Field.attempt: attempt = try Self.int(value, name)
            case Field.enqueuedAt: enqueuedAt = Int64(try Self.int(value, name))
            case Field.notBefore: notBefore = Int64(try Self.int(value, name))
            case Field.idempotencyKey: idem = String(decoding: value, as: UTF8.self)
            case Field.traceContext: trace = String(decoding: value, as: UTF8.self)
            case Field.owner: owner = String(decoding: value, as: UTF8.self)
            case Field.snoozes: snoozes = try Self.int(value, name)
            case Field.redrives: redrives = try Self.int(value, name)
            case Field.errors: errors = try Self.decodeErrors(value)
            default: continue
            }
        }
        guard let id else { throw Self.bad("missing field 'id'") }
        guard let kind, !kind.isEmpty else { throw Self.bad("missing field 'kind'") }
        guard let payload else { throw Self.bad("missing field 'payload'") }
        guard let enqueuedAt else { throw Self.bad("missing field 'enqueued_at'") }
        guard attempt >= 1 else { throw Self.bad("attempt must be at least 1") }
        self.init(
            id: id, kind: kind, payload: payload, attempt: attempt, enqueuedAt: enqueuedAt, notBefore: notBefore,
            idempotencyKey: idem, traceContext: trace, owner: owner, snoozes: snoozes, redrives: redrives, errors: errors)
    }

    private static func bad(_ message: String) -> JobsError { JobsError(.encoding, message) }

    private static func int(_ value: [UInt8], _ name: String) throws(JobsError) -> Int {
        guard let n = Int(String(decoding: value, as: UTF8.self)) else {
            throw bad("field '\(name)' is not an integer")
        }
        return n
    }

    static func encodeErrors(_ errors: [AttemptError]) -> [UInt8] {
        (try? JSONCoding.encoder.encode(errors)).map { Array($0) } ?? Array("[]".utf8)
    }

    static func decodeErrors(_ value: [UInt8]) throws(JobsError) -> [AttemptError] {
        do {
            return try JSONCoding.decoder.decode([AttemptError].self, from: Data(value))
        } catch {
            throw bad("field 'errors' is not a JSON array of {attempt, at, error}")
        }
    }
}

import Foundation

/// Shared JSON coders; sorted keys make payloads byte-stable, which idempotency relies on.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
    public static var decoder: JSONDecoder { JSONDecoder() }
}
