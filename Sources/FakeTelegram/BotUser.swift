import Foundation

struct BotUser: Encodable {
    var id: Int64
    var isBot: Bool
    var firstName: String
    var username: String

    static let fake = BotUser(id: 1_000_000_001, isBot: true, firstName: "ThePred (fake)", username: "thepred_fake_bot")
}
