import Jobs
import Postgres
import ThePredKinds

/// What an operator changes in the domain's configuration: missions' targets and rewards, and
/// leaderboard reward tiers. Markets are created and resolved through their jobs instead.
public struct DomainAdmin: Sendable {
    let db: any PostgresClient

    public init(db: any PostgresClient) { self.db = db }

    public struct Mission: Codable, Sendable, Equatable {
        public let kind: String
        public let target: Int64
        public let reward: Int64
        public let active: Bool
    }

    public struct Tier: Codable, Sendable, Equatable {
        public let period: String
        public let rankFrom: Int64
        public let rankTo: Int64
        public let amount: Int64
    }

    public struct Market: Codable, Sendable, Equatable {
        public let id: Int64
        public let title: String
        public let category: String
        public let status: String
        public let result: String?
        public let endDate: String
        public let totalYes: Int64
        public let totalNo: Int64
        public let pendingBets: Int64
    }

    public func missions() async throws -> [Mission] {
        let rows = try await db.query("SELECT kind, target, reward, active FROM missions ORDER BY id")
        return try (0..<rows.count).map { r in
            Mission(
                kind: try rows.string(r, "kind"), target: try rows.int(r, "target"), reward: try rows.int(r, "reward"),
                active: rows.bool(r, "active"))
        }
    }

    /// Changes what is given; progress already made is kept, and a completed mission stays paid.
    public func setMission(kind: String, target: Int64?, reward: Int64?, active: Bool?) async throws -> Mission {
        guard MissionKind(rawValue: kind) != nil else {
            throw JobsError(
                .notFound, "unknown mission kind \(kind); kinds: \(MissionKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let target, target < 1 { throw JobsError(.conflict, "target must be at least 1") }
        if let reward, reward < 0 { throw JobsError(.conflict, "reward must not be negative") }
        try await db.query(
            """
            UPDATE missions SET target = coalesce($2::bigint, target), reward = coalesce($3::bigint, reward),
                   active = coalesce($4::boolean, active) WHERE kind = $1
            """, [.text(kind), target.map { .int($0) } ?? .null, reward.map { .int($0) } ?? .null, active.map { .bool($0) } ?? .null])
        return try await missions().first { $0.kind == kind }!
    }

    public func tiers(period: LeaderboardPeriod.Kind? = nil) async throws -> [Tier] {
        let rows = try await db.query(
            """
            SELECT kind, rank_from, rank_to, amount FROM leaderboard_reward_tiers
             WHERE $1::text IS NULL OR kind = $1 ORDER BY kind DESC, rank_from
            """, [period.map { .text($0.rawValue) } ?? .null])
        return try (0..<rows.count).map { r in
            Tier(
                period: try rows.string(r, "kind"), rankFrom: try rows.int(r, "rank_from"), rankTo: try rows.int(r, "rank_to"),
                amount: try rows.int(r, "amount"))
        }
    }

    /// Sets the reward of ranks `from...to`, replacing a tier that starts at the same rank.
    /// A tier that would overlap another is refused. Periods closed already keep what they paid.
    public func setTier(period: LeaderboardPeriod.Kind, ranks: ClosedRange<Int64>, amount: Int64) async throws -> Tier {
        guard ranks.lowerBound >= 1 else { throw JobsError(.conflict, "ranks start at 1") }
        guard amount >= 0 else { throw JobsError(.conflict, "amount must not be negative") }
        let kind = period.rawValue
        return try await db.transaction { tx in
            // One writer of a period's tiers at a time, so two overlapping tiers cannot both pass the check.
            try tx.query("SELECT pg_advisory_xact_lock(hashtext('thepred:tiers:' || $1))", [.text(kind)])
            let overlap = try tx.query(
                """
                SELECT rank_from, rank_to FROM leaderboard_reward_tiers
                 WHERE kind = $1 AND rank_from <> $2 AND rank_from <= $3 AND rank_to >= $2
                """, [.text(kind), .int(ranks.lowerBound), .int(ranks.upperBound)])
            if !overlap.isEmpty {
                throw JobsError(
                    .conflict,
                    "ranks \(ranks.lowerBound)-\(ranks.upperBound) overlap the \(kind) tier "
                        + "\(overlap[0, "rank_from"] ?? "?")-\(overlap[0, "rank_to"] ?? "?")")
            }
            try tx.query(
                """
                INSERT INTO leaderboard_reward_tiers (kind, rank_from, rank_to, amount) VALUES ($1, $2, $3, $4)
                ON CONFLICT (kind, rank_from) DO UPDATE SET rank_to = EXCLUDED.rank_to, amount = EXCLUDED.amount
                """, [.text(kind), .int(ranks.lowerBound), .int(ranks.upperBound), .int(amount)])
            return Tier(period: kind, rankFrom: ranks.lowerBound, rankTo: ranks.upperBound, amount: amount)
        }
    }

    /// Removes the tier starting at rank `from`; false when there was none.
    public func deleteTier(period: LeaderboardPeriod.Kind, from: Int64) async throws -> Bool {
        try await db.query(
            "DELETE FROM leaderboard_reward_tiers WHERE kind = $1 AND rank_from = $2", [.text(period.rawValue), .int(from)]
        ).affected == 1
    }

    public func markets(status: String?, limit: Int) async throws -> [Market] {
        let rows = try await db.query(
            """
            SELECT m.id, m.title, m.category, m.status, coalesce(m.result, m.resolution) AS result,
                   to_char(m.end_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS end_date,
                   m.total_yes_bets, m.total_no_bets,
                   (SELECT count(*) FROM bets b WHERE b.market_id = m.id AND b.status = 'PENDING') AS pending
              FROM markets m WHERE $1::text IS NULL OR m.status = $1 ORDER BY m.id DESC LIMIT $2
            """, [status.map { .text($0) } ?? .null, .int(Int64(limit))])
        return try (0..<rows.count).map { r in
            Market(
                id: try rows.int(r, "id"), title: try rows.string(r, "title"), category: try rows.string(r, "category"),
                status: try rows.string(r, "status"), result: rows[r, "result"], endDate: try rows.string(r, "end_date"),
                totalYes: try rows.int(r, "total_yes_bets"), totalNo: try rows.int(r, "total_no_bets"),
                pendingBets: try rows.int(r, "pending"))
        }
    }
}
