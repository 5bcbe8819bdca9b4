import Jobs
import Postgres
import ThePredKinds

/// Mission progress, recomputed from what the database records of a user.
enum Missions {
    /// The figure each mission kind counts, from one row of the user's stats.
    static func values(_ s: PostgresRows) throws -> [MissionKind: Int64] {
        let bets = try s.int(0, "total_bets")
        let streak = try s.int(0, "best_streak")
        let wins = try s.int(0, "total_wins")
        let volume = try s.int(0, "total_volume")
        let rank = Rank(totalWins: wins)
        var v: [MissionKind: Int64] = [:]
        for kind in MissionKind.allCases {
            switch kind {
            case .firstBet, .bets5, .bets10: v[kind] = bets
            case .winStreak3, .winStreak5: v[kind] = streak
            case .betCrypto: v[kind] = try s.int(0, "crypto")
            case .betSports: v[kind] = try s.int(0, "sports")
            case .betPolitics: v[kind] = try s.int(0, "politics")
            case .highRoller: v[kind] = try s.int(0, "high")
            case .lucky7: v[kind] = wins
            case .dailyActive: v[kind] = try s.int(0, "active_days")
            case .referral: v[kind] = try s.int(0, "referrals")
            case .silverRank: v[kind] = rank >= .silver ? 1 : 0
            case .goldRank: v[kind] = rank >= .gold ? 1 : 0
            case .diamondRank: v[kind] = rank >= .diamond ? 1 : 0
            case .grandmasterRank: v[kind] = rank >= .grandmaster ? 1 : 0
            case .volume10K, .volume50K, .volume100K: v[kind] = volume
            }
        }
        return v
    }

    /// Updates every active mission of the user (the user's row is locked by the caller), pays
    /// the ones that reached their target for the first time, and queues their messages as
    /// `messages` (the class the event that completed them belongs to).
    static func advance(
        userID: Int64, in tx: PostgresConnection.Transaction, outbox: Outbox, messages: JobKind<TelegramSend> = TelegramSend.kind
    ) throws {
        let stats = try tx.query(
            """
            SELECT u.telegram_id, u.unreachable, u.total_bets, u.best_streak, u.total_wins, u.total_volume,
                   (SELECT count(*) FROM user_active_days d WHERE d.user_id = u.id) AS active_days,
                   (SELECT count(*) FROM users r WHERE r.referred_by = u.id) AS referrals,
                   c.crypto, c.sports, c.politics, c.high
              FROM users u, LATERAL (
                   SELECT count(*) FILTER (WHERE m.category = 'Crypto') AS crypto,
                          count(*) FILTER (WHERE m.category = 'Sports') AS sports,
                          count(*) FILTER (WHERE m.category = 'Politics') AS politics,
                          count(*) FILTER (WHERE b.stake >= 1000) AS high
                     FROM bets b JOIN markets m ON m.id = b.market_id WHERE b.user_id = u.id) c
             WHERE u.id = $1
            """, [.int(userID)])
        let values = try values(stats)
        let kinds = MissionKind.allCases
        try tx.query(
            """
            INSERT INTO user_missions (user_id, mission_id, progress, completed_at)
            SELECT $1, m.id, LEAST(v.value, m.target), CASE WHEN v.value >= m.target THEN now() END
              FROM missions m JOIN unnest($2::text[], $3::bigint[]) AS v(kind, value) ON v.kind = m.kind
             WHERE m.active
            ON CONFLICT (user_id, mission_id) DO UPDATE
               SET progress = GREATEST(user_missions.progress, EXCLUDED.progress),
                   completed_at = COALESCE(user_missions.completed_at, EXCLUDED.completed_at)
             -- An unchanged mission is not rewritten: this runs for every bet.
             WHERE user_missions.completed_at IS NULL
               AND (EXCLUDED.progress > user_missions.progress OR EXCLUDED.completed_at IS NOT NULL)
            """,
            [.int(userID), .textArray(kinds.map(\.rawValue)), .bigintArray(kinds.map { values[$0] ?? 0 })])
        let paid = try tx.query(
            """
            WITH paid AS (
                INSERT INTO transactions (user_id, type, amount, effect_key)
                SELECT $1::bigint, 'MISSION', m.reward, 'mission:' || $1::bigint || ':' || m.id
                  FROM user_missions um JOIN missions m ON m.id = um.mission_id
                 WHERE um.user_id = $1::bigint AND um.completed_at IS NOT NULL
                ON CONFLICT (effect_key) DO NOTHING
                RETURNING amount, effect_key
            ), credited AS (
                UPDATE users SET balance = balance + (SELECT coalesce(sum(amount), 0) FROM paid)
                 WHERE id = $1::bigint AND EXISTS (SELECT 1 FROM paid)
            )
            SELECT p.amount, m.kind FROM paid p JOIN missions m ON p.effect_key = 'mission:' || $1::bigint || ':' || m.id
             ORDER BY m.id
            """, [.int(userID)])
        guard !stats.bool(0, "unreachable") else { return }
        let telegramID = try stats.int(0, "telegram_id")
        for r in 0..<paid.count {
            try outbox.add(
                messages,
                Notifications.missionCompleted(
                    telegramID: telegramID, mission: displayName(try paid.string(r, "kind")), reward: try paid.int(r, "amount")),
                in: tx)
        }
    }

    /// `WIN_STREAK_3` -> `Win streak 3`.
    static func displayName(_ kind: String) -> String {
        let words = kind.split(separator: "_").map { $0.lowercased() }
        guard let first = words.first else { return kind }
        return ([first.prefix(1).uppercased() + first.dropFirst()] + words.dropFirst()).joined(separator: " ")
    }
}
