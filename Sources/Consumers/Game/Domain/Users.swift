import Postgres

/// Registration of users the platform first hears of by Telegram id.
public enum Users {
    /// The PRED a new user starts with. `users.balance` defaults to the same in the schema
    /// (0001_domain.sql), and `register` relies on that default.
    public static let startingBalance: Int64 = 10_000

    /// Registers `telegramID` with 10,000 PRED unless it exists, then locks and returns its row
    /// (id, balance, banned, unreachable). Its referral code is `T` and the Telegram id in hex.
    static func register(
        telegramID: Int64, username: String?, in tx: PostgresConnection.Transaction
    ) throws -> PostgresRows {
        try tx.query(
            """
            INSERT INTO users (telegram_id, username, referral_code) VALUES ($1, $2, 'T' || upper(to_hex($1::bigint)))
            ON CONFLICT (telegram_id) DO NOTHING
            """, [.int(telegramID), username.map { .text($0) } ?? .null])
        return try lock(telegramID: telegramID, in: tx)
    }

    static func lock(telegramID: Int64, in tx: PostgresConnection.Transaction) throws -> PostgresRows {
        try tx.query(
            "SELECT id, telegram_id, balance, banned, unreachable, referred_by FROM users WHERE telegram_id = $1 FOR UPDATE",
            [.int(telegramID)])
    }

    static func lock(id: Int64, in tx: PostgresConnection.Transaction) throws -> PostgresRows {
        try tx.query(
            "SELECT id, telegram_id, balance, banned, unreachable, referred_by FROM users WHERE id = $1 FOR UPDATE",
            [.int(id)])
    }
}
