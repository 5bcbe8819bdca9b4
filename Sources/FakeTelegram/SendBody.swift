import Foundation

// The JSON the fake reads and writes. Property names are camelCase here and snake_case on
// the wire (the coders convert), as the Bot API spells them.

// MARK: Bot API requests

/// A `sendMessage` or `sendPhoto` body; any other field is ignored, as Telegram ignores it.
struct SendBody: Decodable {
    var chatId: ChatIDValue?
    var text: String?
    var caption: String?
    var photo: String?
    var parseMode: String?
    var allowPaidBroadcast: Bool?

    init() {}
}
