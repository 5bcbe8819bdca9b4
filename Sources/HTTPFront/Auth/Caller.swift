import Crypto
import Foundation
import Jobs

/// Who is asking: a Telegram user, or an admin.
public enum Caller: Sendable, Equatable {
    case user(TelegramUser)
    case admin

    /// The job owner recorded for a user's jobs.
    var owner: String {
        switch self {
        case .user(let u): "tg:\(u.id)"
        case .admin: "admin"
        }
    }
}
