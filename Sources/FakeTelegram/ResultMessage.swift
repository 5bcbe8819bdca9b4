import Foundation

/// Telegram's Message object, with the fields a sender may look at.
struct ResultMessage: Encodable {
    struct Chat: Encodable {
        var id: Int64
        /// "private" for users, "group" for negative ids.
        var type: String
        var firstName: String?
        var title: String?
    }

    struct PhotoSize: Encodable {
        var fileId: String
        var fileUniqueId: String
        var width: Int
        var height: Int
    }

    var messageId: Int64
    var from: BotUser
    var chat: Chat
    var date: Int64
    /// Without its markup, as Telegram answers.
    var text: String?
    var caption: String?
    var photo: [PhotoSize]?

    init(_ message: FakeTelegramServer.Message, visible: VisibleText) {
        messageId = message.messageID
        from = .fake
        chat =
            message.chatID < 0
            ? Chat(id: message.chatID, type: "group", title: "Group \(message.chatID.magnitude)")
            : Chat(id: message.chatID, type: "private", firstName: "User \(message.chatID)")
        date = message.unixMillis / 1000
        let plain = String(decoding: visible.bytes, as: UTF8.self)
        if message.photo != nil {
            caption = plain.isEmpty ? nil : plain
            photo = [
                PhotoSize(
                    fileId: "fake-photo-\(message.messageID)", fileUniqueId: "fake\(message.messageID)", width: 1280,
                    height: 720)
            ]
        } else {
            text = plain
        }
    }
}
