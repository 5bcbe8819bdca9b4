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

    /// Telegram's HTML mode needs these three escaped; market titles are admin text. Escaped byte
    /// by byte, not by Character: `"<\u{338}"` is one Character that is not equal to `"<"`, yet
    /// Telegram's parser reads its `<` and refuses the message ("can't parse entities"). No byte
    /// of a multi-byte UTF-8 sequence is ASCII, so the bytes replaced are exactly these three.
    static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
