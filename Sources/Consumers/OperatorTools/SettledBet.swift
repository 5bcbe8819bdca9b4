/// One bet of a resolved market, settled at `at`; `payout` 0 means lost.
struct SettledBet {
    var index: Int
    var user: Int
    var payout: Int64
    var at: Int64
}
