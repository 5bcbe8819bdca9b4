/// The ids already taken, so new rows go after them.
struct SeedOffsets: Sendable {
    var user: Int64 = 0
    var market: Int64 = 0
    var bet: Int64 = 0
    var ledger: Int64 = 0
    var telegramID: Int64 = 0
}
