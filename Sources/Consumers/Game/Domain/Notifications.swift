import Jobs
import ThePredKinds

/// The texts of the messages the domain jobs send, in Telegram's HTML parse mode.
enum Notifications {
    // The settlement ones take the market title already escaped: it is the same for a million bets.

    static func betWon(telegramID: Int64, htmlTitle: String, payout: Int64) -> TelegramSend {
        TelegramSend(telegramID: telegramID, kind: .betWon, text: "🎉 You won <b>\(payout) PRED</b> on “\(htmlTitle)”.")
    }

    static func betLost(telegramID: Int64, htmlTitle: String, stake: Int64) -> TelegramSend {
        TelegramSend(
            telegramID: telegramID, kind: .betLost, text: "Your bet of \(stake) PRED on “\(htmlTitle)” did not win this time.")
    }

    static func refunded(telegramID: Int64, htmlTitle: String, stake: Int64) -> TelegramSend {
        TelegramSend(
            telegramID: telegramID, kind: .marketResolved, text: "Market “\(htmlTitle)” was cancelled: refund <b>\(stake) PRED</b>.")
    }

    static func missionCompleted(telegramID: Int64, mission: String, reward: Int64) -> TelegramSend {
        TelegramSend(
            telegramID: telegramID, kind: .missionCompleted,
            text: "✅ Mission <b>\(escape(mission))</b> completed: +\(reward) PRED.")
    }

    static func leaderboardReward(telegramID: Int64, period: LeaderboardPeriod, rank: Int, amount: Int64) -> TelegramSend {
        TelegramSend(
            telegramID: telegramID, kind: .leaderboardReward,
            text: "🏆 You finished #\(rank) on the \(period.kind == .week ? "weekly" : "monthly") leaderboard"
                + " (\(escape(period.description))): +\(amount) PRED.")
    }

    /// Telegram's HTML mode needs these three escaped; market titles are admin text.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(ch)
            }
        }
        return out
    }
}
