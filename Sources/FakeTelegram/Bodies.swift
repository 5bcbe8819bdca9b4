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

/// `chat_id` as a number or as a string. A string that is not a number (an `@username`) is no
/// chat the fake knows.
struct ChatIDValue: Decodable {
    var id: Int64?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            id = number
        } else {
            id = Int64(try container.decode(String.self))
        }
    }
}

// MARK: Bot API answers

struct ErrorBody: Encodable {
    struct Parameters: Encodable {
        var retryAfter: Int
    }

    let ok = false
    var errorCode: Int
    var description: String
    var parameters: Parameters?
}

struct SuccessBody: Encodable {
    let ok = true
    var result: ResultMessage
}

struct GetMeBody: Encodable {
    let ok = true
    var result: BotUser
}

struct BotUser: Encodable {
    var id: Int64
    var isBot: Bool
    var firstName: String
    var username: String

    static let fake = BotUser(id: 1_000_000_001, isBot: true, firstName: "ThePred (fake)", username: "thepred_fake_bot")
}

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

// MARK: Control endpoints

struct ControlAnswer: Encodable {
    var ok: Bool
    var description: String?
}

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

    init(_ message: FakeTelegramServer.Message) {
        userAgent = message.userAgent
        receivedMs = message.receivedMillis
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

/// `GET /fake/config`. The token stays out: these answers end up in logs.
struct ConfigBody: Encodable {
    var host: String
    var port: Int
    var globalPerSecond: Int
    var perChatPerSecond: Int
    var groupPerMinute: Int
    var paidPerSecond: Int
    var blocked: [Int64]
    var unknownChats: [Int64]
    var failureRate: Double
    var slowRate: Double
    var slowDelayMs: Int64
    var failNext: Int
    var failStatus: Int

    init(_ configuration: FakeTelegramServer.Configuration, port: Int, failNext: FailNext) {
        host = configuration.host
        self.port = port
        globalPerSecond = configuration.globalPerSecond
        perChatPerSecond = configuration.perChatPerSecond
        groupPerMinute = configuration.groupPerMinute
        paidPerSecond = configuration.paidPerSecond
        blocked = configuration.blocked.sorted()
        unknownChats = configuration.unknownChats.sorted()
        failureRate = configuration.failureRate
        slowRate = configuration.slowRate
        slowDelayMs = configuration.slowDelay.milliseconds
        self.failNext = failNext.count
        failStatus = failNext.status
    }
}

/// A `POST /fake/config` body: what it names changes, the rest stays.
struct ConfigPatch: Decodable {
    var blocked: [Int64]?
    var unknownChats: [Int64]?
    var failureRate: Double?
    var slowRate: Double?
    var slowDelayMs: Int64?
    var failNext: Int?
    var failStatus: Int?

    /// A patch that says something wrong.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    private static let fields: Set<String> = [
        "blocked", "unknown_chats", "failure_rate", "slow_rate", "slow_delay_ms", "fail_next", "fail_status",
    ]

    /// Refuses unknown fields, so a misspelt one is not silently a no-op.
    init(json: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw Invalid(description: "the body must be a JSON object")
        }
        if let unknown = object.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw Invalid(description: "unknown field \"\(unknown)\"; known: \(Self.fields.sorted().joined(separator: ", "))")
        }
        do {
            self = try JSONDecoder.snakeCase.decode(ConfigPatch.self, from: json)
        } catch {
            throw Invalid(description: "a field has the wrong type: \(error)")
        }
        for (name, rate) in [("failure_rate", failureRate), ("slow_rate", slowRate)] {
            if let rate, !(0...1).contains(rate) { throw Invalid(description: "\(name) must be within 0...1") }
        }
        if let slowDelayMs, slowDelayMs < 0 { throw Invalid(description: "slow_delay_ms must not be negative") }
        if let failNext, failNext < 0 { throw Invalid(description: "fail_next must not be negative") }
        if let failStatus, !(500...599).contains(failStatus) {
            throw Invalid(description: "fail_status must be within 500...599")
        }
    }

    func apply(to state: inout FakeTelegramState) {
        if let blocked { state.configuration.blocked = Set(blocked) }
        if let unknownChats { state.configuration.unknownChats = Set(unknownChats) }
        if let failureRate { state.configuration.failureRate = failureRate }
        if let slowRate { state.configuration.slowRate = slowRate }
        if let slowDelayMs { state.configuration.slowDelay = .milliseconds(slowDelayMs) }
        if let failStatus { state.failNext.status = failStatus }
        if let failNext { state.failNext.count = failNext }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
