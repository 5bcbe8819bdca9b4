import Crypto
import Foundation
import Jobs

/// The Telegram user a Mini App's init data vouches for.
public struct TelegramUser: Sendable, Equatable {
    public let id: Int64
    public let username: String?

    public init(id: Int64, username: String?) {
        self.id = id
        self.username = username
    }
}
