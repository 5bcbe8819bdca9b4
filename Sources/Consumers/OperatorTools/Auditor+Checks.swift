import Game

extension Auditor {
    /// Field `n` (from 1) of `effect_key` split at ':', as a bigint when it is 1 to 18 digits, else
    /// NULL. String functions rather than a regular expression: several times faster per row.
    static func keyNumber(_ n: Int) -> String {
        let field = "split_part(effect_key, ':', \(n))"
        return "CASE WHEN length(\(field)) BETWEEN 1 AND 18 AND ltrim(\(field), '0123456789') = '' THEN \(field)::bigint END"
    }

    /// ``Check/balances``: a user whose balance is not the starting balance plus the ledger.
    static let balancesSQL = """
        SELECT 1 AS part, u.id AS key1, 0::bigint AS key2,
               format('user %s: balance %s, but \(Seeder.grouped(Int(Users.startingBalance))) + ledger = %s (ledger rows: %s)',
                      u.id, u.balance, \(Users.startingBalance) + coalesce(l.total, 0), coalesce(l.n, 0)) AS detail
        FROM users u
        LEFT JOIN (SELECT user_id, sum(amount) AS total, count(*) AS n FROM transactions GROUP BY user_id) l
               ON l.user_id = u.id
        WHERE u.balance <> \(Users.startingBalance) + coalesce(l.total, 0)
        """

    /// ``Check/marketPools``: a market whose pools are not the stakes of its bets.
    static let marketPoolsSQL = """
        SELECT 1 AS part, m.id AS key1, 0::bigint AS key2,
               format('market %s: pools YES %s, NO %s, total %s; its bets stake YES %s, NO %s, total %s',
                      m.id, m.total_yes_bets, m.total_no_bets, m.total_pool,
                      coalesce(b.yes, 0), coalesce(b.no, 0), coalesce(b.yes, 0) + coalesce(b.no, 0)) AS detail
        FROM markets m
        LEFT JOIN (SELECT market_id, sum(stake) FILTER (WHERE outcome = 'YES') AS yes,
                          sum(stake) FILTER (WHERE outcome = 'NO') AS no
                   FROM bets GROUP BY market_id) b ON b.market_id = m.id
        WHERE m.total_yes_bets <> coalesce(b.yes, 0) OR m.total_no_bets <> coalesce(b.no, 0)
           OR m.total_pool <> coalesce(b.yes, 0) + coalesce(b.no, 0)
        """

    /// ``Check/betPayouts``: bets with wrong ledger rows (1), rows keyed wrong (2), rows of a
    /// bet that does not exist (3). Rows are tied to a bet by the id their key starts with, so a
    /// second payout under a slightly different key ('bet:7:WIN-retry') still counts against bet 7.
    static let betPayoutsSQL = """
        WITH ledger AS (
            SELECT id, user_id, type, amount, effect_key,
                   CASE WHEN split_part(effect_key, ':', 1) = 'bet' THEN \(keyNumber(2)) END AS bet_id
            FROM transactions WHERE type IN ('BET', 'WIN', 'REFUND')
        ), per_bet AS (
            SELECT bet_id,
                   count(*) FILTER (WHERE type = 'BET') AS bet_rows,
                   coalesce(sum(amount) FILTER (WHERE type = 'BET'), 0) AS bet_sum,
                   count(*) FILTER (WHERE type = 'WIN') AS win_rows,
                   coalesce(sum(amount) FILTER (WHERE type = 'WIN'), 0) AS win_sum,
                   count(*) FILTER (WHERE type = 'REFUND') AS refund_rows,
                   coalesce(sum(amount) FILTER (WHERE type = 'REFUND'), 0) AS refund_sum,
                   min(user_id) AS min_user, max(user_id) AS max_user
            FROM ledger WHERE bet_id IS NOT NULL GROUP BY bet_id
        ), per_bet_issues AS (
            SELECT coalesce(b.id, p.bet_id) AS id, b.id IS NULL AS unknown, b.status, b.stake, b.potential_win,
                   p.bet_rows, p.win_rows, p.refund_rows, concat_ws('; ',
                CASE WHEN coalesce(p.bet_rows, 0) <> 1 OR coalesce(p.bet_sum, 0) <> -b.stake
                     THEN format('%s BET rows totalling %s, expected one of %s',
                                 coalesce(p.bet_rows, 0), coalesce(p.bet_sum, 0), -b.stake) END,
                CASE WHEN b.status = 'WON' AND (coalesce(p.win_rows, 0) <> 1 OR p.win_sum <> b.potential_win)
                     THEN format('%s WIN rows totalling %s, expected one of %s',
                                 coalesce(p.win_rows, 0), coalesce(p.win_sum, 0), b.potential_win) END,
                CASE WHEN b.status <> 'WON' AND coalesce(p.win_rows, 0) > 0
                     THEN format('%s WIN rows totalling %s, expected none', p.win_rows, p.win_sum) END,
                CASE WHEN b.status = 'REFUNDED' AND (coalesce(p.refund_rows, 0) <> 1 OR p.refund_sum <> b.stake)
                     THEN format('%s REFUND rows totalling %s, expected one of %s',
                                 coalesce(p.refund_rows, 0), coalesce(p.refund_sum, 0), b.stake) END,
                CASE WHEN b.status <> 'REFUNDED' AND coalesce(p.refund_rows, 0) > 0
                     THEN format('%s REFUND rows totalling %s, expected none', p.refund_rows, p.refund_sum) END,
                CASE WHEN p.min_user <> b.user_id OR p.max_user <> b.user_id
                     THEN format('its ledger rows belong to users %s..%s, the bet to user %s',
                                 p.min_user, p.max_user, b.user_id) END
            ) AS issues
            -- One hash join finds both bets with wrong rows and rows whose bet does not exist.
            FROM bets b FULL JOIN per_bet p ON p.bet_id = b.id
        )
        SELECT 1 AS part, id AS key1, 0::bigint AS key2,
               format('bet %s (%s, stake %s, potential win %s): %s', id, status, stake, potential_win, issues) AS detail
        FROM per_bet_issues WHERE NOT unknown AND issues <> ''
        UNION ALL
        SELECT 2, coalesce(bet_id, 0), id,
               format('ledger row %s (%s %s, user %s) is keyed %L, not bet:<bet id>:%s',
                      id, type, amount, user_id, effect_key, type)
        FROM ledger WHERE bet_id IS NULL OR effect_key <> 'bet:' || bet_id || ':' || type
        UNION ALL
        SELECT 3, id, 0,
               format('bet %s does not exist, yet has %s BET, %s WIN and %s REFUND rows', id, bet_rows, win_rows, refund_rows)
        FROM per_bet_issues WHERE unknown
        """

    /// ``Check/missionRewards``: completed missions not paid once at their reward (1), payments
    /// of a mission not completed (2), rows keyed wrong (3).
    static let missionRewardsSQL = """
        WITH ledger AS (
            SELECT id, user_id, amount, effect_key,
                   CASE WHEN split_part(effect_key, ':', 1) = 'mission' THEN \(keyNumber(2)) END AS key_user,
                   CASE WHEN split_part(effect_key, ':', 1) = 'mission' THEN \(keyNumber(3)) END AS mission_id
            FROM transactions WHERE type = 'MISSION'
        ), paid AS (
            SELECT key_user AS user_id, mission_id, count(*) AS n, sum(amount) AS total
            FROM ledger WHERE key_user IS NOT NULL AND mission_id IS NOT NULL GROUP BY 1, 2
        )
        SELECT 1 AS part, um.user_id AS key1, um.mission_id AS key2,
               format('user %s, mission %s (%s): completed, but %s MISSION rows totalling %s; the reward is %s',
                      um.user_id, um.mission_id, m.kind, coalesce(p.n, 0), coalesce(p.total, 0), m.reward) AS detail
        FROM user_missions um
        JOIN missions m ON m.id = um.mission_id
        LEFT JOIN paid p ON p.user_id = um.user_id AND p.mission_id = um.mission_id
        WHERE um.completed_at IS NOT NULL AND (coalesce(p.n, 0) <> 1 OR p.total <> m.reward)
        UNION ALL
        SELECT 2, p.user_id, p.mission_id,
               format('user %s, mission %s: %s MISSION rows totalling %s, but the mission is %s',
                      p.user_id, p.mission_id, p.n, p.total,
                      CASE WHEN um.user_id IS NULL THEN 'not started' ELSE 'not completed' END)
        FROM paid p
        LEFT JOIN user_missions um ON um.user_id = p.user_id AND um.mission_id = p.mission_id
        WHERE um.completed_at IS NULL
        UNION ALL
        SELECT 3, l.user_id, l.id,
               format('ledger row %s (MISSION %s, user %s) is keyed %L, not mission:%s:<mission id>',
                      l.id, l.amount, l.user_id, l.effect_key, l.user_id)
        FROM ledger l
        WHERE l.key_user IS NULL OR l.mission_id IS NULL OR l.key_user <> l.user_id
           OR l.effect_key <> 'mission:' || l.key_user || ':' || l.mission_id
        """

    /// ``Check/leaderboardRewards``: rows keyed wrong (1), a user rewarded twice for one period (2),
    /// rewards for a period that does not exist or is not closed (3).
    static let leaderboardRewardsSQL = """
        WITH ledger AS (
            SELECT id, user_id, amount, effect_key,
                   CASE WHEN split_part(effect_key, ':', 1) = 'leaderboard' THEN \(keyNumber(2)) END AS period_id,
                   CASE WHEN split_part(effect_key, ':', 1) = 'leaderboard' THEN \(keyNumber(3)) END AS key_user
            FROM transactions WHERE type = 'LEADERBOARD'
        )
        SELECT 1 AS part, l.user_id AS key1, l.id AS key2,
               format('ledger row %s (LEADERBOARD %s, user %s) is keyed %L, not leaderboard:<period id>:%s',
                      l.id, l.amount, l.user_id, l.effect_key, l.user_id) AS detail
        FROM ledger l
        WHERE l.period_id IS NULL OR l.key_user IS NULL OR l.key_user <> l.user_id
           OR l.effect_key <> 'leaderboard:' || l.period_id || ':' || l.key_user
        UNION ALL
        SELECT 2, period_id, key_user,
               format('period %s, user %s: rewarded %s times, %s PRED in all', period_id, key_user, count(*), sum(amount))
        FROM ledger WHERE period_id IS NOT NULL AND key_user IS NOT NULL
        GROUP BY period_id, key_user HAVING count(*) > 1
        UNION ALL
        SELECT 3, l.period_id, l.id,
               CASE WHEN p.id IS NULL
                    THEN format('ledger row %s rewards user %s for period %s, which does not exist',
                                l.id, l.user_id, l.period_id)
                    ELSE format('ledger row %s rewards user %s for period %s (%s from %s), which is not closed',
                                l.id, l.user_id, l.period_id, p.kind, p.starts_at) END
        FROM ledger l LEFT JOIN leaderboard_periods p ON p.id = l.period_id
        WHERE l.period_id IS NOT NULL AND (p.id IS NULL OR p.closed_at IS NULL)
        """

    /// ``Check/userCounters``: a user whose counters do not match their bets, or whose
    /// balance is negative.
    static let userCountersSQL = """
        SELECT 1 AS part, u.id AS key1, 0::bigint AS key2,
               format('user %s: %s', u.id, concat_ws('; ',
                   CASE WHEN u.total_bets <> coalesce(b.n, 0)
                        THEN format('total_bets %s, but %s bets', u.total_bets, coalesce(b.n, 0)) END,
                   CASE WHEN u.total_wins <> coalesce(b.won, 0)
                        THEN format('total_wins %s, but %s WON bets', u.total_wins, coalesce(b.won, 0)) END,
                   CASE WHEN u.total_losses <> coalesce(b.lost, 0)
                        THEN format('total_losses %s, but %s LOST bets', u.total_losses, coalesce(b.lost, 0)) END,
                   CASE WHEN u.balance < 0 THEN format('balance %s is negative', u.balance) END)) AS detail
        FROM users u
        LEFT JOIN (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE status = 'WON') AS won,
                          count(*) FILTER (WHERE status = 'LOST') AS lost
                   FROM bets GROUP BY user_id) b ON b.user_id = u.id
        WHERE u.total_bets <> coalesce(b.n, 0) OR u.total_wins <> coalesce(b.won, 0)
           OR u.total_losses <> coalesce(b.lost, 0) OR u.balance < 0
        """
}
