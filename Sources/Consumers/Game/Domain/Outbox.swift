import Foundation
import Jobs
import Postgres
import Producers
import ThePredKinds

/// The transactional outbox: jobs a handler decides on inside its transaction are written to
/// `job_outbox` with its effects, and enqueued after the commit.
///
/// Rows are keyed by the job that wrote them. If that job crashes between the commit and the
/// enqueue, it is delivered again (it was never acked) and its next run enqueues the rows. The
/// idempotency key `outbox:<row id>` makes an enqueue that happened before the crash count once.
struct Outbox {
    let sourceJob: JobID

    /// Where each kind's queue is, built once rather than on every flush.
    private static let registry = Result { try AppKinds.registry() }

    /// Records `payload` as a job of `kind` to enqueue after the commit.
    func add<P>(_ kind: JobKind<P>, _ payload: P, in tx: PostgresConnection.Transaction) throws {
        let bytes = try (payload as? any SelfEncodingPayload)?.jsonBytes() ?? Array(JSONCoding.encoder.encode(payload))
        let json = String(decoding: bytes, as: UTF8.self)
        try tx.query(
            "INSERT INTO job_outbox (source_job_id, kind, payload) VALUES ($1, $2, $3)",
            [.text(sourceJob.rawValue), .text(kind.name.rawValue), .text(json)])
    }

    /// Enqueues every row the job wrote, then deletes them. Returns how many were enqueued.
    @discardableResult
    func flush(_ db: any PostgresClient, client: JobClient) async throws -> Int {
        let rows = try await db.query(
            "SELECT id, kind, payload FROM job_outbox WHERE source_job_id = $1 ORDER BY id", [.text(sourceJob.rawValue)])
        return try await Self.enqueue(rows, db: db, client: client)
    }

    /// Enqueues rows at least `age` old, whichever job wrote them, then deletes them: the rows of
    /// a job that is gone (a Redis that died forgot it) or that will not flush them (a replay that
    /// returns early). A row still being flushed by its own job counts once, by its key.
    static func sweep(_ db: any PostgresClient, client: JobClient, olderThan age: Duration, limit: Int = 1_000) async throws -> Int {
        // Only kinds this build knows: a row of a newer build's kind waits for a worker that has it,
        // and does not block the rows behind it.
        let kinds = try Self.registry.get().all.map { $0.name.rawValue }
        let rows = try await db.query(
            "SELECT id, kind, payload FROM job_outbox WHERE created_at < now() - make_interval(secs => $1::double precision) "
                + "AND kind = ANY($3::text[]) ORDER BY id LIMIT $2",
            [.text(String(age.milliseconds / 1000)), .text(String(limit)), .textArray(kinds)])
        return try await enqueue(rows, db: db, client: client)
    }

    private static func enqueue(_ rows: PostgresRows, db: any PostgresClient, client: JobClient) async throws -> Int {
        guard !rows.rows.isEmpty else { return 0 }
        let registry = try Self.registry.get()
        let now = client.clock.nowMillis()
        var byQueue: [QueueName: [JobEnvelope]] = [:]
        var ids: [Int64] = []
        for row in rows.rows {
            guard let id = row[0].flatMap({ Int64($0) }), let kind = row[1], let payload = row[2],
                let descriptor = registry.descriptor(named: kind)
            else { throw JobsError(.unknownKind, "job_outbox row \(row[0] ?? "?") names an unknown job kind") }
            byQueue[descriptor.queue, default: []].append(
                JobEnvelope(
                    id: .generate(millis: now), kind: kind, payload: Array(payload.utf8), enqueuedAt: now,
                    idempotencyKey: "outbox:\(id)"))
            ids.append(id)
        }
        for (queue, envelopes) in byQueue { _ = try await client.enqueue(envelopes: envelopes, queue: queue) }
        try await db.query("DELETE FROM job_outbox WHERE id = ANY($1::bigint[])", [.bigintArray(ids)])
        return ids.count
    }
}
