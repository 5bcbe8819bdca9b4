import CLibpq
import Foundation
import Jobs
import Metrics

/// One connection to PostgreSQL on a thread of its own, so blocking libpq calls never run on
/// Swift's cooperative pool. A broken connection is re-established on the next call.
public final class PostgresConnection: Sendable {
    private let core: Core

    /// - Parameters:
    ///   - url: a libpq connection string or `postgres://` URL (DATABASE_URL).
    ///   - statementTimeout: set as the session's `statement_timeout` on every (re)connect, so a
    ///     statement the server cannot finish in time fails there (SQLSTATE 57014) instead of
    ///     outliving its job. A transaction that needs longer raises it with `SET LOCAL`. Nil
    ///     keeps the server's setting (the tools: seeding a million rows takes longer).
    public init(url: String, name: String = "postgres", statementTimeout: Duration? = nil) {
        core = Core(url: url, name: name, statementTimeout: statementTimeout)
    }

    deinit { core.close() }

    public func close() { core.close() }

    /// How many ``PostgresStatement``s a connection keeps prepared before it deallocates them all.
    public static var preparedStatementCapacity: Int { PostgresStatementCache.capacity }

    /// Runs one statement with parameters ($1, $2, …) and returns its rows.
    ///
    /// Cancelling the calling task stops the statement: a queued one never runs, a running one is
    /// cancelled on the server; either way the call throws `CancellationError`.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await core.submit { conn, _, _ in try Core.execute(conn, sql, parameters) }
    }

    /// Runs a statement prepared once on this connection (prepared on first use, and again after
    /// a reconnect).
    @discardableResult
    public func query(_ statement: PostgresStatement, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await core.submit { conn, _, statements in try Core.execute(conn, statement.sql, parameters, statements: statements) }
    }

    /// Runs `body` inside BEGIN … COMMIT on this connection, rolling back if it throws.
    /// Statements of other callers wait until the transaction ends. Cancelling the calling task
    /// cancels the statement running and refuses the next ones, so the transaction rolls back.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await core.submit { conn, cancelled, statements in
            _ = try Core.execute(conn, "BEGIN", [])
            do {
                let result = try body(Transaction(conn: conn, cancelled: cancelled, statements: statements))
                _ = try Core.execute(conn, "COMMIT", [])
                return result
            } catch {
                _ = try? Core.execute(conn, "ROLLBACK", [])
                throw error
            }
        }
    }

    /// Statements inside a transaction. They run synchronously on the connection's thread.
    public struct Transaction {
        fileprivate let conn: OpaquePointer
        /// Whether the caller's task was cancelled; checked before each statement, because a cancel
        /// that arrives between two statements finds nothing running on the server to stop.
        fileprivate let cancelled: @Sendable () -> Bool
        fileprivate let statements: PostgresStatementCache

        @discardableResult
        public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
            if cancelled() { throw CancellationError() }
            return try Core.execute(conn, sql, parameters)
        }

        /// Runs a statement prepared once on this connection.
        @discardableResult
        public func query(_ statement: PostgresStatement, _ parameters: [PostgresValue] = []) throws -> PostgresRows {
            if cancelled() { throw CancellationError() }
            return try Core.execute(conn, statement.sql, parameters, statements: statements)
        }

        /// Gives this transaction's statements `timeout` each instead of the session's
        /// `statement_timeout` (`SET LOCAL`): for the few jobs whose timeout is long and whose
        /// statements may be too.
        public func setStatementTimeout(_ timeout: Duration) throws {
            try query("SELECT set_config('statement_timeout', $1, true)", [.text(String(Core.milliseconds(timeout)))])
        }

        /// Runs a script of several statements with no parameters, such as a migration file.
        public func script(_ sql: String) throws {
            if cancelled() { throw CancellationError() }
            guard let result = PQexec(conn, sql) else {
                throw PostgresError(code: .connection, message: String(cString: PQerrorMessage(conn)), sqlState: nil)
            }
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
                let message =
                    PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
                    ?? String(cString: PQerrorMessage(conn))
                let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                throw PostgresError(code: .server, message: message, sqlState: state)
            }
        }

        /// Runs `COPY … FROM STDIN` and streams what `write` encodes, chunk by chunk.
        ///
        /// - Returns: the rows the server stored.
        /// - Throws: ``PostgresError`` with code `.server` and the SQLSTATE when the statement or a row
        ///   is refused (the transaction is then failed and rolls back), or whatever `write` threw,
        ///   after telling the server to abandon the COPY.
        @discardableResult
        public func copy(_ sql: String, _ write: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
            if cancelled() { throw CancellationError() }
            return try Core.copy(conn, sql, write)
        }

        /// Runs `COPY … FROM STDIN` with one array of values per row, in the COPY's column order.
        @discardableResult
        public func copy<Rows: Sequence<[PostgresValue]>>(_ sql: String, rows: Rows) throws -> Int {
            try copy(sql) { writer in
                for row in rows {
                    for value in row { writer.add(value) }
                    try writer.endRow()
                }
            }
        }
    }
}

extension PostgresConnection {
    fileprivate final class Core: @unchecked Sendable {
        let url: String
        let statementTimeout: Duration?
        private var thread: DedicatedThread<() -> Void>!
        // Used on the connection thread only.
        private var conn: OpaquePointer?
        private var cancelHandle: PostgresCancelHandle?
        private var lastError = ""
        private let statements = PostgresStatementCache()
        // How long a call waits for its connection's thread: the pool's queueing, per call.
        private let poolWait = Timer(label: "thepred_postgres_pool_wait_seconds", preferredDisplayUnit: .seconds)
        private let reconnects = Counter(label: "thepred_postgres_reconnects_total")
        private var everConnected = false

        init(url: String, name: String, statementTimeout: Duration?) {
            self.url = url
            self.statementTimeout = statementTimeout
            thread = DedicatedThread(
                name: name,
                process: { jobs in for job in jobs { job() } },
                finish: { [self] in disconnect() })
        }

        func submit<T: Sendable>(
            _ work: @escaping (OpaquePointer, _ cancelled: @escaping @Sendable () -> Bool, PostgresStatementCache) throws -> T
        ) async throws -> T {
            let ticket = PostgresTicket<T>()
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                    ticket.attach(continuation)
                    let queued = ContinuousClock.now
                    let job: () -> Void = { [self] in
                        poolWait.recordNanoseconds((ContinuousClock.now - queued).nanoseconds)
                        // Connect only for a call that is still wanted.
                        guard ticket.start() else { return }
                        guard let conn = connection() else {
                            ticket.finish(.failure(PostgresError(code: .connection, message: lastError, sqlState: nil)))
                            return
                        }
                        guard ticket.connected(cancel: cancelHandle) else {
                            ticket.finish(.failure(CancellationError()))
                            return
                        }
                        let landed = ticket.finish(Result { try work(conn, { ticket.cancelRequested }, statements) })
                        // A cancel still on its way could stop the next call, and one that hit a
                        // ROLLBACK leaves a transaction open: either way, a fresh connection.
                        if !landed || (ticket.cancelRequested && PQtransactionStatus(conn) != PQTRANS_IDLE) { disconnect() }
                    }
                    if !thread.submit(job) {
                        ticket.finish(.failure(PostgresError(code: .closed, message: "closed", sqlState: nil)))
                    }
                }
            } onCancel: {
                ticket.cancel()
            }
        }

        func close() { thread.close() }

        /// The live connection, reconnecting if the server went away.
        private func connection() -> OpaquePointer? {
            if let conn, PQstatus(conn) == CONNECTION_OK { return conn }
            disconnect()
            statements.reset()
            conn = Self.connect(url)
            guard let conn, PQstatus(conn) == CONNECTION_OK else {
                lastError =
                    conn.map { String(cString: PQerrorMessage($0)).trimmingCharacters(in: .whitespacesAndNewlines) }
                    ?? "out of memory"
                if let conn { PQfinish(conn) }
                self.conn = nil
                return nil
            }
            // Notices (such as "already exists, skipping") would go to stderr otherwise.
            PQclear(PQexec(conn, "SET client_min_messages TO warning"))
            if let statementTimeout {
                PQclear(PQexec(conn, "SET statement_timeout = \(Self.milliseconds(statementTimeout))"))
            }
            cancelHandle = PQgetCancel(conn).map(PostgresCancelHandle.init)
            if everConnected { reconnects.increment() }
            everConnected = true
            return conn
        }

        /// Settings every connection gets unless its URL sets them: a deadline for connecting, and
        /// keepalives and a TCP user timeout, so a dead host or a blackholed path breaks the
        /// connection instead of leaving a call waiting for ever (README, "PostgreSQL connections").
        static let connectDefaults: [(String, String)] = [
            ("connect_timeout", "5"), ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "3"),
            ("keepalives_count", "3"), ("tcp_user_timeout", "15000"),
        ]

        /// PQconnectdbParams with `url` expanded last, so what the URL says wins over the defaults.
        static func connect(_ url: String) -> OpaquePointer? {
            let pairs = connectDefaults + [("dbname", url)]
            let keys = pairs.map { strdup($0.0) }
            let values = pairs.map { strdup($0.1) }
            defer { for p in keys + values { free(p) } }
            let keyPointers = keys.map { UnsafePointer($0) } + [nil]
            let valuePointers = values.map { UnsafePointer($0) } + [nil]
            return PQconnectdbParams(keyPointers, valuePointers, 1)
        }

        private func disconnect() {
            cancelHandle = nil
            if let conn { PQfinish(conn) }
            conn = nil
        }

        /// At least 1: PostgreSQL reads 0 as "no timeout".
        static func milliseconds(_ d: Duration) -> Int64 { min(Int64(Int32.max), max(1, d.milliseconds)) }

        /// Runs one statement; with `statements`, one with parameters as a prepared statement of
        /// this connection.
        static func execute(
            _ conn: OpaquePointer, _ sql: String, _ parameters: [PostgresValue], statements: PostgresStatementCache? = nil
        ) throws -> PostgresRows {
            let values: [String?] = parameters.map { if case .text(let t) = $0 { return t } else { return nil } }
            let count = Int32(values.count)
            guard let statements, count > 0 else {
                return try rows(of: withCStrings(values) { PQexecParams(conn, sql, count, nil, $0, nil, nil, 0) }, conn)
            }
            do {
                let name = try statements.name(for: sql, parameters: count, on: conn)
                return try rows(of: withCStrings(values) { PQexecPrepared(conn, name, count, $0, nil, nil, 0) }, conn)
            } catch let error as PostgresError where error.sqlState == "0A000" || error.sqlState == "26000" {
                // 0A000 "cached plan must not change result type": a migration changed a table
                // under the statement; 26000: the server no longer has it (a DEALLOCATE by someone
                // else). Prepared again next time; outside a transaction, at once.
                statements.forget(sql, on: conn)
                guard PQtransactionStatus(conn) == PQTRANS_IDLE else { throw error }
                let name = try statements.name(for: sql, parameters: count, on: conn)
                return try rows(of: withCStrings(values) { PQexecPrepared(conn, name, count, $0, nil, nil, 0) }, conn)
            }
        }

        /// The rows of a statement's result, or its error; clears the result.
        private static func rows(of result: OpaquePointer?, _ conn: OpaquePointer) throws -> PostgresRows {
            guard let result else {
                throw PostgresError(code: .connection, message: String(cString: PQerrorMessage(conn)), sqlState: nil)
            }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
                let columns = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
                var rows: [[String?]] = []
                rows.reserveCapacity(Int(PQntuples(result)))
                for r in 0..<PQntuples(result) {
                    rows.append(
                        (0..<PQnfields(result)).map { c in
                            PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
                        })
                }
                let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
                return PostgresRows(columns: columns, rows: rows, affected: affected)
            default:
                throw PostgresConnection.error(of: result, conn)
            }
        }

        static func copy(_ conn: OpaquePointer, _ sql: String, _ write: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
            guard let start = PQexec(conn, sql) else {
                throw PostgresError(code: .connection, message: String(cString: PQerrorMessage(conn)), sqlState: nil)
            }
            let status = PQresultStatus(start)
            if status != PGRES_COPY_IN {
                defer { PQclear(start) }
                if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
                    throw PostgresError(code: .decoding, message: "not a COPY … FROM STDIN statement: \(sql)", sqlState: nil)
                }
                throw PostgresConnection.error(of: start, conn)
            }
            PQclear(start)

            // PQputCopyData blocks while the socket is full, which is why this runs on the
            // connection's own thread. libpq reads the server's answer only at the end, so a row
            // refused early is reported after the rest was sent (and discarded by the server);
            // a send failing means the connection broke.
            var writer = PostgresCopyWriter { chunk in
                let sent = PQputCopyData(conn, chunk.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(chunk.count))
                if sent != 1 { throw CopyInterrupted() }
            }
            var sendFailed = false
            do {
                try write(&writer)
                try writer.flush()
            } catch is CopyInterrupted {
                sendFailed = true
            } catch {
                // Abandon the COPY so the server fails it, then report the caller's own error.
                _ = PQputCopyEnd(conn, "abandoned by the client: \(error)")
                _ = finishCopy(conn)
                throw error
            }
            // Ends the COPY after a failed send too: only PQputCopyEnd takes libpq out of COPY_IN.
            if PQputCopyEnd(conn, sendFailed ? "the client could not send" : nil) != 1 { sendFailed = true }
            let (stored, failure) = finishCopy(conn)
            if let failure { throw failure }
            if sendFailed || PQstatus(conn) != CONNECTION_OK {
                throw PostgresError(code: .connection, message: String(cString: PQerrorMessage(conn)), sqlState: nil)
            }
            return stored
        }

        private struct CopyInterrupted: Error {}

        /// Reads every result the COPY left: the rows stored, or the first error.
        private static func finishCopy(_ conn: OpaquePointer) -> (stored: Int, failure: PostgresError?) {
            var stored = 0
            var failure: PostgresError?
            while let result = PQgetResult(conn) {
                let status = PQresultStatus(result)
                if status == PGRES_COMMAND_OK {
                    stored = Int(String(cString: PQcmdTuples(result))) ?? 0
                } else if status == PGRES_COPY_IN {
                    // Still copying: the end never reached the server, so the link is broken and
                    // asking again would loop forever.
                    PQclear(result)
                    return (
                        stored,
                        failure
                            ?? PostgresError(
                                code: .connection, message: String(cString: PQerrorMessage(conn)), sqlState: nil)
                    )
                } else if failure == nil {
                    failure = PostgresConnection.error(of: result, conn)
                }
                PQclear(result)
            }
            return (stored, failure)
        }

        /// Passes NUL-terminated copies of the values, nil for NULL, valid for the call only.
        private static func withCStrings<R>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
            let copies = values.map { $0.map { strdup($0) } ?? nil }
            defer { for c in copies { free(c) } }
            return body(copies.map { $0.map { UnsafePointer($0) } })
        }
    }
}

extension PostgresConnection {
    /// The error a failed result carries: `.server` with its SQLSTATE, or `.connection`.
    static func error(of result: OpaquePointer, _ conn: OpaquePointer) -> PostgresError {
        let message =
            PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQerrorMessage(conn))
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        if PQstatus(conn) != CONNECTION_OK {
            return PostgresError(code: .connection, message: message, sqlState: state)
        }
        return PostgresError(code: .server, message: message, sqlState: state)
    }
}
