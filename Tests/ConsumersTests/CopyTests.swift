import Postgres
import TestSupport
import Testing

/// Strings that break naive COPY encoders: every escaped byte, a literal `\N`, quotes, SQL.
private let hostile: [String?] = [
    "tab\there", "new\nline", "carriage\rreturn", "crlf\r\n", "back\\slash", "\\N", "\\\\N", "\\",
    "trailing\\", "quote ' and \" double", "x'); DROP TABLE users; --", "", nil, " ", "\t\t\n\\",
    "ПРЕД 🎲 ставка", "comma,semi;pipe|", "\u{1}control\u{7f}",
]

@Suite("COPY text encoder")
struct CopyEncoderTests {
    /// The bytes a writer produces, gathered in memory.
    private func encode(chunkSize: Int = 1 << 20, _ body: (inout PostgresCopyWriter) throws -> Void) rethrows -> (String, chunks: Int) {
        var bytes: [UInt8] = []
        var chunks = 0
        var writer = PostgresCopyWriter(chunkSize: chunkSize) { chunk in
            bytes.append(contentsOf: chunk)
            chunks += 1
        }
        try body(&writer)
        try! writer.flush()
        return (String(decoding: bytes, as: UTF8.self), chunks)
    }

    @Test("escapes backslash, tab, newline and CR; NULL is \\N; fields by tab, rows by newline")
    func escaping() throws {
        let (text, _) = try encode { w in
            w.add("a\tb\nc\rd\\e")
            w.addNull()
            w.add("\\N")
            w.add(Int64(-42))
            w.add(true)
            try w.endRow()
            w.add("")
            w.add(Int64.min)
            try w.endRow()
        }
        #expect(text == "a\\tb\\nc\\rd\\\\e\t\\N\t\\\\N\t-42\tt\n\t-9223372036854775808\n")
    }

    @Test("timestamps are written as UTC text, leap days and pre-1970 included")
    func timestamps() throws {
        let (text, _) = try encode { w in
            w.addTimestamp(epochSeconds: 0)
            w.addTimestamp(epochSeconds: 951_782_400)  // 2000-02-29, a leap day
            w.addTimestamp(epochSeconds: 1_735_689_599)
            w.addTimestamp(epochSeconds: -1)
            try w.endRow()
        }
        #expect(text == "1970-01-01 00:00:00+00\t2000-02-29 00:00:00+00\t2024-12-31 23:59:59+00\t1969-12-31 23:59:59+00\n")
    }

    @Test("rows go out in chunks of about the chunk size, never one big buffer")
    func chunks() throws {
        let (text, chunks) = try encode(chunkSize: 1000) { w in
            for i in 0..<1000 {
                w.add(Int64(i))
                w.add("row \(i)")
                try w.endRow()
            }
        }
        #expect(text.split(separator: "\n").count == 1000)
        #expect(chunks >= 10)
    }
}

@Suite("PostgreSQL COPY", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct CopyTests {
    @Test("hostile strings and NULLs round-trip exactly, across many chunks")
    func roundTrip() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        try await db.query("CREATE TABLE t (id BIGINT PRIMARY KEY, body TEXT, n BIGINT, flag BOOLEAN, at TIMESTAMPTZ)")
        // 40,000 rows are several 256 KiB chunks, so chunk boundaries fall inside rows.
        let count = 40_000
        let stored = try await db.transaction { tx in
            try tx.copy("COPY t (id, body, n, flag, at) FROM STDIN") { w in
                for i in 0..<count {
                    w.add(Int64(i))
                    w.add(hostile[i % hostile.count].map { "\($0) #\(i)" } ?? nil)
                    if i % 7 == 0 { w.addNull() } else { w.add(Int64(i) * -1_000_003) }
                    w.add(i % 2 == 0)
                    w.addTimestamp(epochSeconds: Int64(i) * 86_413 - 1_000_000_000)
                    try w.endRow()
                }
            }
        }
        #expect(stored == count)
        let rows = try await db.query("SELECT id, body, n, flag, extract(epoch FROM at)::bigint AS at FROM t ORDER BY id").rows
        #expect(rows.count == count)
        var mismatches = 0
        for (i, row) in rows.enumerated() {
            let body = hostile[i % hostile.count].map { "\($0) #\(i)" } ?? nil
            let n: String? = i % 7 == 0 ? nil : String(Int64(i) * -1_000_003)
            if row != [String(i), body, n, i % 2 == 0 ? "t" : "f", String(Int64(i) * 86_413 - 1_000_000_000)] { mismatches += 1 }
        }
        #expect(mismatches == 0)

        // The array form, with every hostile value once.
        try await db.transaction { tx in
            try tx.query("DELETE FROM t")
            try tx.copy(
                "COPY t (id, body) FROM STDIN",
                rows: hostile.enumerated().map { i, s in [.int(Int64(i)), s.map(PostgresValue.text) ?? .null] })
        }
        let back = try await db.query("SELECT body FROM t ORDER BY id").rows.map { $0[0] }
        #expect(back == hostile)
        try await fresh.drop(db)
    }

    @Test("a refused row fails the COPY with its SQLSTATE and rolls the whole transaction back")
    func badRow() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        try await Migrator(directory: Migrator.defaultDirectory).migrate(db)
        let error = await #expect(throws: PostgresError.self) {
            try await db.transaction { tx in
                try tx.query("INSERT INTO users (telegram_id, username) VALUES (1, 'before')")
                // The duplicate comes early: the server refuses it while rows still stream in,
                // and the client must stop sending and report the server's reason.
                try tx.copy("COPY users (telegram_id, username) FROM STDIN") { w in
                    w.add(Int64(1)); w.add("duplicate telegram id"); try w.endRow()
                    for i in 2..<200_000 {
                        w.add(Int64(i)); w.add("user\(i)"); try w.endRow()
                    }
                }
            }
        }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "23505")
        #expect(try await db.query("SELECT count(*) AS n FROM users")[0, "n"] == "0")

        // A value the column cannot take is refused the same way.
        let malformed = await #expect(throws: PostgresError.self) {
            try await db.transaction { tx in
                try tx.copy("COPY users (telegram_id) FROM STDIN", rows: [[.text("12")], [.text("not a number")]])
            }
        }
        #expect(malformed?.code == .server)
        #expect(malformed?.sqlState == "22P02")

        // A statement that is not COPY FROM STDIN, and a table that does not exist.
        let notCopy = await #expect(throws: PostgresError.self) {
            try await db.transaction { tx in try tx.copy("SELECT 1", rows: [[PostgresValue]]()) }
        }
        #expect(notCopy?.code == .decoding)
        let missing = await #expect(throws: PostgresError.self) {
            try await db.transaction { tx in try tx.copy("COPY nope (a) FROM STDIN", rows: [[PostgresValue]]()) }
        }
        #expect(missing?.sqlState == "42P01")

        // The connection is still good for the next statement.
        #expect(try await db.query("SELECT 1 AS one")[0, "one"] == "1")
        try await fresh.drop(db)
    }

    @Test("an error thrown while writing abandons the COPY and is rethrown as it was")
    func writerThrows() async throws {
        struct Stop: Error, Equatable {}
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        try await db.query("CREATE TABLE t (id BIGINT)")
        await #expect(throws: Stop.self) {
            try await db.transaction { tx in
                try tx.copy("COPY t (id) FROM STDIN") { w in
                    for i in 0..<100_000 {
                        w.add(Int64(i)); try w.endRow()
                    }
                    throw Stop()
                }
            }
        }
        #expect(try await db.query("SELECT count(*) AS n FROM t")[0, "n"] == "0")
        #expect(try await db.query("SELECT 1 AS one")[0, "one"] == "1")
        try await fresh.drop(db)
    }
}
