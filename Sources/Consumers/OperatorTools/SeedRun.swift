import Postgres

/// One seeding inside its transaction: lock, take ids after the largest ones, copy the rows,
/// move the sequences.
struct SeedRun {
    let configuration: Seeder.Configuration
    let tx: PostgresConnection.Transaction
    let progress: @Sendable (String) -> Void

    static let columns: [(table: String, columns: [String])] = [
        (
            "users",
            [
                "id", "telegram_id", "username", "balance", "total_bets", "total_wins", "total_losses", "win_streak",
                "best_streak", "total_volume", "rank", "referral_code", "banned", "created_at",
            ]
        ),
        (
            "markets",
            [
                "id", "title", "description", "category", "end_date", "status", "result", "total_yes_bets",
                "total_no_bets", "total_pool", "promoted", "created_at", "resolved_at", "resolution",
                "resolution_started_at",
            ]
        ),
        (
            "bets",
            [
                "id", "user_id", "market_id", "outcome", "stake", "odds_hundredths", "potential_win", "status", "job_id",
                "created_at", "resolved_at",
            ]
        ),
        ("transactions", ["id", "user_id", "type", "amount", "effect_key", "created_at"]),
    ]

    static func copySQL(_ table: String) -> String {
        let list = columns.first { $0.table == table }!.columns.joined(separator: ", ")
        return "COPY \(table) (\(list)) FROM STDIN"
    }

    func execute() throws -> Seeder.Report {
        try checkSchema()
        let offsets = try takeOffsets()

        var clock = ContinuousClock.now
        func lap() -> String {
            let now = ContinuousClock.now
            defer { clock = now }
            return Seeder.format(seconds: clock.duration(to: now))
        }

        let world = SeedWorld(configuration: configuration, offsets: offsets)
        var outcome = SeedSimulation(world: world)
        var none = NoSink()
        try outcome.run(&none)
        progress(
            "simulated \(Seeder.grouped(world.bets)) bets in \(lap()): \(Seeder.grouped(outcome.won)) won, "
                + "\(Seeder.grouped(outcome.lost)) lost, \(Seeder.grouped(outcome.pending)) pending")

        try tx.copy(Self.copySQL("users")) { w in try outcome.writeUsers(&w) }
        progress("users: \(Seeder.grouped(world.users)) rows in \(lap())")
        try tx.copy(Self.copySQL("markets")) { w in try outcome.writeMarkets(&w) }
        progress("markets: \(Seeder.grouped(world.markets.count)) rows in \(lap())")

        let every = max(1, world.bets / 5)
        var replay = SeedSimulation(world: world)
        try tx.copy(Self.copySQL("bets")) { w in
            var sink = BetRows(writer: w, offsets: offsets, total: world.bets, every: every, progress: progress)
            try replay.run(&sink)
            w = sink.writer
        }
        try outcome.expectSameOutcome(as: replay)
        progress("bets: \(Seeder.grouped(world.bets)) rows in \(lap())")

        replay = SeedSimulation(world: world)
        let ledgerRows = try tx.copy(Self.copySQL("transactions")) { w in
            var sink = LedgerRows(writer: w, offsets: offsets, total: world.bets, every: every, progress: progress)
            try replay.run(&sink)
            w = sink.writer
        }
        try outcome.expectSameOutcome(as: replay)
        progress("ledger: \(Seeder.grouped(ledgerRows)) rows in \(lap())")

        try moveSequences(past: [
            ("users", world.users), ("markets", world.markets.count), ("bets", world.bets), ("transactions", ledgerRows),
        ])

        let marketIDs = (0..<world.markets.count).map { offsets.market + Int64($0) + 1 }
        return Seeder.Report(
            users: world.users, markets: world.markets.count, bets: world.bets, ledgerRows: ledgerRows,
            userIDs: offsets.user + 1...offsets.user + Int64(world.users),
            marketIDs: marketIDs,
            activeMarketIDs: marketIDs.indices.filter { world.markets[$0].resolvedAt == nil }.map { marketIDs[$0] },
            resolvedMarketIDs: marketIDs.indices.filter { world.markets[$0].resolvedAt != nil }.map { marketIDs[$0] },
            betIDs: world.bets > 0 ? offsets.bet + 1...offsets.bet + Int64(world.bets) : nil,
            pendingBets: outcome.pending, wonBets: outcome.won, lostBets: outcome.lost, seconds: 0)
    }

    /// Locks the four tables and returns the largest ids they hold.
    private func takeOffsets() throws -> SeedOffsets {
        // EXCLUSIVE lets readers on and keeps every writer out until commit, so the ids taken
        // below stay free and no concurrent bet moves a balance the simulation is based on.
        try tx.query("LOCK TABLE users, markets, bets, transactions IN EXCLUSIVE MODE")
        let row = try tx.query(
            """
            SELECT (SELECT coalesce(max(id), 0) FROM users) AS users,
                   (SELECT coalesce(max(telegram_id), 0) FROM users) AS telegram,
                   (SELECT coalesce(max(id), 0) FROM markets) AS markets,
                   (SELECT coalesce(max(id), 0) FROM bets) AS bets,
                   (SELECT coalesce(max(id), 0) FROM transactions) AS ledger
            """)
        func int(_ column: String) -> Int64 { Int64(row[0, column] ?? "") ?? 0 }
        let offsets = SeedOffsets(
            user: int("users"), market: int("markets"), bet: int("bets"), ledger: int("ledger"), telegramID: int("telegram"))
        progress("ids start after users \(offsets.user), markets \(offsets.market), bets \(offsets.bet), ledger \(offsets.ledger)")
        return offsets
    }

    /// Moves each written table's sequence past its largest id, never backwards, so the
    /// application's next insert gets a fresh id.
    private func moveSequences(past written: [(table: String, rows: Int)]) throws {
        for (table, rows) in written where rows > 0 {
            try tx.query(
                """
                SELECT setval(s, greatest((SELECT max(id) FROM \(table)), coalesce(pg_sequence_last_value(s), 1)))
                FROM (SELECT pg_get_serial_sequence('\(table)', 'id')::regclass AS s) seq
                """)
        }
    }

    /// Refuses an unmigrated database with one clear line instead of a COPY error.
    private func checkSchema() throws {
        let wanted = Self.columns.flatMap { t in t.columns.map { "('\(t.table)', '\($0)')" } }.joined(separator: ", ")
        let missing = try tx.query(
            """
            SELECT w.t, w.c, to_regclass(w.t) IS NULL AS no_table FROM (VALUES \(wanted)) AS w (t, c)
            WHERE NOT EXISTS (
                SELECT 1 FROM information_schema.columns c
                WHERE c.table_schema = current_schema() AND c.table_name = w.t AND c.column_name = w.c)
            """
        ).rows
        guard missing.isEmpty else {
            var tables: [String] = [], columns: [String] = []
            for row in missing {
                if row[2] == "t" {
                    if !tables.contains(row[0] ?? "") { tables.append(row[0] ?? "") }
                } else {
                    columns.append("\(row[0] ?? "").\(row[1] ?? "")")
                }
            }
            let what = [
                tables.isEmpty ? nil : "no table " + tables.joined(separator: ", "),
                columns.isEmpty ? nil : "no column " + columns.joined(separator: ", "),
            ].compactMap { $0 }.joined(separator: "; ")
            throw SeederError("the database is not migrated (\(what)); run `thepred migrate` first")
        }
    }
}
