import Foundation
import Postgres
import TestSupport
import Testing

/// A fresh, empty database on the test server, dropped by `drop()`.
struct FreshDatabase {
    let name = "t_\(UInt32.random(in: 0 ... .max))"
    let admin = PostgresConnection(url: TestPostgres.url(database: "postgres"))

    func create() async throws -> PostgresConnection {
        try await admin.query("CREATE DATABASE \(name)")  // a generated identifier, never user input
        return PostgresConnection(url: TestPostgres.url(database: name))
    }

    func drop(_ db: PostgresConnection) async throws {
        db.close()
        try await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

@Suite("PostgreSQL", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct PostgresTests {
    @Test("migrate applies each file once; running it again changes nothing")
    func migrateTwice() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let migrator = try Migrator(directory: Migrator.defaultDirectory)
        let first = try await migrator.migrate(db)
        #expect(first.map(\.version) == migrator.migrations.map(\.version))
        #expect(try await migrator.migrate(db).isEmpty)
        #expect(try await db.query("SELECT count(*) AS n FROM missions")[0, "n"] == "19")
        #expect(try await db.query("SELECT count(*) AS n FROM schema_migrations")[0, "n"] == "\(migrator.migrations.count)")
        try await fresh.drop(db)
    }

    /// Found by ops/chaos: reading row 0 of an empty result trapped the worker (broadcast.fanout of a
    /// broadcast id that does not exist), so the job came back as poison ten deaths later.
    @Test("reading a row a statement did not return is nil, not a trap")
    func missingRowIsNil() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let rows = try await db.query("SELECT 1 AS x WHERE false")
        #expect(rows.rows.isEmpty)
        #expect(rows[0, "x"] == nil && rows[-1, "x"] == nil && rows[0, "nope"] == nil)
        try await fresh.drop(db)
    }

    /// A quote or backslash followed by a combining mark is one Character, not equal to the
    /// bare sign: escaping by Character left it raw, and the element ended at that quote.
    @Test("text[] parameters keep quotes and backslashes that combine with the next scalar")
    func textArrayCombiningMarks() async throws {
        let db = PostgresConnection(url: TestPostgres.url(database: "postgres"))
        defer { db.close() }
        let values = ["a\"\u{301},b", "\\\u{301}", "plain", "", "{}", "NULL", "🇺🇦 \"q\""]
        let rows = try await db.query(
            "SELECT x, ord FROM unnest($1::text[]) WITH ORDINALITY AS t(x, ord) ORDER BY ord", [.textArray(values)])
        #expect(rows.count == values.count)
        for (i, value) in values.enumerated() { #expect(rows[i, "x"] == value) }
    }

    @Test("a database with an unknown or changed migration is refused")
    func refusesUnknown() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let migrator = try Migrator(directory: Migrator.defaultDirectory)
        try await migrator.migrate(db)
        try await db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')")
        let unknown = await #expect(throws: PostgresError.self) { try await migrator.migrate(db) }
        #expect(unknown?.message.contains("9999 (future), which this build does not know") == true)
        try await db.query("DELETE FROM schema_migrations WHERE version = 9999")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for m in migrator.migrations {
            try (m.sql + "\n-- edited").write(
                to: dir.appendingPathComponent(String(format: "%04d_%@.sql", m.version, m.name)), atomically: true, encoding: .utf8)
        }
        let changed = await #expect(throws: PostgresError.self) { try await Migrator(directory: dir).migrate(db) }
        #expect(changed?.message.contains("changed after it was applied") == true)
        try await fresh.drop(db)
    }

    @Test("values travel as parameters, never as SQL text; a failed transaction leaves nothing")
    func parametersAndTransactions() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        try await Migrator(directory: Migrator.defaultDirectory).migrate(db)
        let hostile = "x'); DROP TABLE users; --"
        try await db.query("INSERT INTO users (telegram_id, username) VALUES ($1, $2)", [.int(1), .text(hostile)])
        #expect(try await db.query("SELECT username FROM users WHERE telegram_id = $1", [.int(1)])[0, "username"] == hostile)

        await #expect(throws: PostgresError.self) {
            try await db.transaction { tx in
                try tx.query("INSERT INTO users (telegram_id) VALUES ($1)", [.int(2)])
                try tx.query("INSERT INTO users (telegram_id) VALUES ($1)", [.int(1)])  // duplicate: fails
            }
        }
        #expect(try await db.query("SELECT count(*) AS n FROM users")[0, "n"] == "1")
        let duplicate = await #expect(throws: PostgresError.self) {
            try await db.query("INSERT INTO users (telegram_id) VALUES ($1)", [.int(1)])
        }
        #expect(duplicate?.sqlState == "23505")
        try await fresh.drop(db)
    }

    @Test("a PostgresStatement is prepared once per connection and survives a table changed under it; plain SQL is not prepared")
    func preparedStatements() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let prepared = "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'SELECT * FROM t WHERE%'"
        try await db.query("CREATE TABLE t (id bigint PRIMARY KEY, a text)")
        try await db.query("INSERT INTO t VALUES (1, 'x')")
        let select = PostgresStatement("SELECT * FROM t WHERE id = $1")
        #expect(try await db.query("SELECT * FROM t WHERE id = $1", [.int(1)])[0, "a"] == "x")
        #expect(try await db.query(prepared)[0, "n"] == "0")
        for _ in 0..<3 { #expect(try await db.query(select, [.int(1)])[0, "a"] == "x") }
        #expect(try await db.query(prepared)[0, "n"] == "1")
        // The cached plan's result type changes: PostgreSQL refuses it (0A000) once; it is prepared again.
        try await db.query("ALTER TABLE t ADD COLUMN b text DEFAULT 'y'")
        #expect(try await db.query(select, [.int(1)])[0, "b"] == "y")
        // Inside a transaction the refusal fails that transaction; the next one prepares it again.
        try await db.query("ALTER TABLE t ADD COLUMN c text DEFAULT 'z'")
        await #expect(throws: PostgresError.self) {
            try await db.transaction { tx in try tx.query(select, [.int(1)]) }
        }
        let c = try await db.transaction { tx in try tx.query(select, [.int(1)])[0, "c"] }
        #expect(c == "z")
        // Deallocated behind the cache's back (26000): prepared again at once.
        try await db.query("DEALLOCATE ALL")
        #expect(try await db.query(select, [.int(1)])[0, "a"] == "x")
        // More distinct statements than the cache keeps: all run, and the server holds at most the cap.
        for i in 0..<(PostgresConnection.preparedStatementCapacity + 10) {
            #expect(try await db.query(PostgresStatement("SELECT $1::int + \(i) AS v"), [.int(1)])[0, "v"] == "\(i + 1)")
        }
        let held = try await db.query("SELECT count(*) AS n FROM pg_prepared_statements")[0, "n"]
        #expect(Int(held ?? "") ?? .max <= PostgresConnection.preparedStatementCapacity)
        // A new session has none: the cache starts over after a reconnect.
        let pid = try #require(try await db.query("SELECT pg_backend_pid() AS pid")[0, "pid"])
        try await fresh.admin.query("SELECT pg_terminate_backend($1::int)", [.text(pid)])
        _ = try? await db.query("SELECT 1")
        #expect(try await db.query(select, [.int(1)])[0, "a"] == "x")
        try await fresh.drop(db)
    }

    @Test("a connection whose server side went away reconnects on the next call")
    func reconnects() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let pid = try #require(try await db.query("SELECT pg_backend_pid() AS pid")[0, "pid"])
        try await fresh.admin.query("SELECT pg_terminate_backend($1::int)", [.text(pid)])
        _ = try? await db.query("SELECT 1")  // may fail: the server closed it
        #expect(try await db.query("SELECT 2 AS two")[0, "two"] == "2")
        try await fresh.drop(db)
    }

    @Test("a cancelled task stops its statement on the server, and the connection goes on")
    func cancelRunning() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let began = ContinuousClock.now
        let sleeper = Task { try await db.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(300))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(ContinuousClock.now - began < .seconds(5), "PQcancel, not the 30 s sleep")
        #expect(try await db.query("SELECT 2 AS two")[0, "two"] == "2")
        // A transaction: the running statement is cancelled and the rest rolls back.
        try await db.query("CREATE TABLE t (n int)")
        let tx = Task {
            try await db.transaction { tx in
                try tx.query("INSERT INTO t VALUES (1)")
                try tx.query("SELECT pg_sleep(30)")
                try tx.query("INSERT INTO t VALUES (2)")
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        tx.cancel()
        await #expect(throws: CancellationError.self) { try await tx.value }
        #expect(try await db.query("SELECT count(*) AS n FROM t")[0, "n"] == "0")
        try await fresh.drop(db)
    }

    @Test("a call cancelled while queued behind another never runs")
    func cancelQueued() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        try await db.query("CREATE TABLE t (n int)")
        let busy = Task { try await db.query("SELECT pg_sleep(1)") }
        try await Task.sleep(for: .milliseconds(100))
        let queued = Task { try await db.query("INSERT INTO t VALUES (1)") }
        try await Task.sleep(for: .milliseconds(100))
        let began = ContinuousClock.now
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        #expect(ContinuousClock.now - began < .milliseconds(500), "resumed at once, not after the statement ahead")
        _ = try await busy.value
        #expect(try await db.query("SELECT count(*) AS n FROM t")[0, "n"] == "0")
        try await fresh.drop(db)
    }

    @Test("statement_timeout is set on every connection; a transaction can raise it for itself")
    func statementTimeout() async throws {
        let fresh = FreshDatabase()
        try await fresh.create().close()
        let pool = PostgresPool(url: TestPostgres.url(database: fresh.name), size: 2, statementTimeout: .milliseconds(200))
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT pg_sleep(1)") }
        #expect(error?.sqlState == "57014")
        #expect(try await pool.query("SHOW statement_timeout")[0, "statement_timeout"] == "200ms")
        try await pool.transaction { tx in
            try tx.setStatementTimeout(.seconds(5))
            try tx.query("SELECT pg_sleep(0.5)")
        }
        #expect(try await pool.query("SHOW statement_timeout")[0, "statement_timeout"] == "200ms", "SET LOCAL ends with its transaction")
        pool.close()
        try await fresh.admin.query("DROP DATABASE IF EXISTS \(fresh.name) WITH (FORCE)")
    }

    @Test("an unreachable server is a clear connection error")
    func unreachable() async throws {
        let db = PostgresConnection(url: "postgres://postgres@127.0.0.1:1/none")
        let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT 1") }
        #expect(error?.code == .connection)
    }
}
