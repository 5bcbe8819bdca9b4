import Foundation

/// One message of `GET /fake/messages`.
struct MessageBody: Encodable {
    var messageId: Int64
    var chatId: Int64
    var method: String
    var text: String
    var photo: String?
    var parseMode: String?
    var paid: Bool
    var atMs: Int64
    var userAgent: String?
    var receivedMs: Int64
    /// 502 for a message recorded and then answered 502; absent otherwise.
    var answeredStatus: Int?

    init(_ message: FakeTelegramServer.Message) {
        userAgent = message.userAgent
        receivedMs = message.receivedMillis
        answeredStatus = message.answeredStatus
        messageId = message.messageID
        chatId = message.chatID
        method = message.method
        text = message.text
        photo = message.photo
        parseMode = message.parseMode
        paid = message.paid
        atMs = message.unixMillis
    }
}
