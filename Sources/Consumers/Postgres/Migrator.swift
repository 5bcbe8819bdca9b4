import Foundation

/// Applies the numbered SQL files of `schemas/sql` once each, in order.
///
/// Pending files run in one transaction together with their rows in `schema_migrations`, under an
/// advisory lock, so two `thepred migrate` at once apply nothing twice. A database that has a
/// migration this build does not know, or whose applied file has changed, is refused.
public struct Migrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let sql: String
        /// FNV-1a 64 of the file, to notice a file changed after it was applied.
        public let checksum: String
    }

    public let migrations: [Migration]

    /// Reads `NNNN_name.sql` files from `directory`.
    public init(directory: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        var seen = Set<Int>()
        migrations = try names.map { file in
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw PostgresError(code: .decoding, message: "migration file \(file) is not named NNNN_name.sql", sqlState: nil)
            }
            guard seen.insert(version).inserted else {
                throw PostgresError(code: .decoding, message: "two migration files have version \(version)", sqlState: nil)
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql, checksum: Self.fnv1a(sql))
        }
    }

    /// The `schemas/sql` folder of the source tree this binary was built from.
    public static var defaultDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/sql")
    }

    /// Applies what is missing; returns the migrations applied now.
    @discardableResult
    public func migrate(_ db: PostgresConnection) async throws -> [Migration] {
        let migrations = self.migrations
        return try await db.transaction { tx in
            // One migrate at a time across every process; released at commit.
            try tx.query("SELECT pg_advisory_xact_lock(7274001)")
            try tx.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    checksum   TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
            let applied = try tx.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
            for row in applied.rows {
                let version = Int(row[0] ?? "") ?? -1
                guard let mine = known[version] else {
                    throw PostgresError(
                        code: .server,
                        message:
                            "the database has migration \(version) (\(row[1] ?? "?")), which this build does not know; refusing to touch it. Deploy a build that has it.",
                        sqlState: nil)
                }
                guard mine.checksum == row[2] else {
                    throw PostgresError(
                        code: .server,
                        message: "migration \(version) (\(mine.name)) changed after it was applied; add a new migration instead",
                        sqlState: nil)
                }
            }
            let done = Set(applied.rows.compactMap { Int($0[0] ?? "") })
            var now: [Migration] = []
            for migration in migrations where !done.contains(migration.version) {
                do {
                    try tx.script(migration.sql)
                } catch let error as PostgresError {
                    throw PostgresError(
                        code: error.code, message: "migration \(migration.version) (\(migration.name)): \(error.message)",
                        sqlState: error.sqlState)
                }
                try tx.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [.int(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                now.append(migration)
            }
            return now
        }
    }

    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
