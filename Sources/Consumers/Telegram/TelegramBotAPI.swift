import Foundation

/// One message for the Bot API: `sendMessage`, or `sendPhoto` with the text as caption.
public struct TelegramOutgoing: Sendable, Equatable {
    public var chatID: Int64
    public var text: String
    /// "HTML" or "Markdown".
    public var parseMode: String
    public var photoURL: String?
    /// Sent with `allow_paid_broadcast: true`.
    public var paid: Bool
    /// The request must be over by then: a client does not start it when its own timeout could
    /// carry it past this instant, and fails it as not sent instead. The delivery log's claim on
    /// the message lasts until then, so no other run can send it while this one might.
    public var answerBy: ContinuousClock.Instant?

    public init(
        chatID: Int64, text: String, parseMode: String = "HTML", photoURL: String? = nil, paid: Bool = false,
        answerBy: ContinuousClock.Instant? = nil
    ) {
        self.chatID = chatID
        self.text = text
        self.parseMode = parseMode
        self.photoURL = photoURL
        self.paid = paid
        self.answerBy = answerBy
    }

    /// The Bot API method this message needs.
    public var method: String { photoURL == nil ? "sendMessage" : "sendPhoto" }

    /// The request body.
    public func jsonBody() -> [UInt8] {
        var body: [String: Any] = ["chat_id": chatID, "parse_mode": parseMode]
        if let photoURL {
            body["photo"] = photoURL
            body["caption"] = text
        } else {
            body["text"] = text
        }
        if paid { body["allow_paid_broadcast"] = true }
        // JSONSerialization takes only these plain values, so it cannot throw here.
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
    }
}

/// What the Bot API answered: `{"ok":true,"result":...}` or
/// `{"ok":false,"error_code":N,"description":"...","parameters":{"retry_after":S}}`.
public struct TelegramAnswer: Sendable, Equatable {
    public var httpStatus: Int
    public var ok: Bool
    public var errorCode: Int?
    public var description: String?
    /// Seconds to wait, with a 429.
    public var retryAfter: Int?
    public var messageID: Int64?

    public init(
        httpStatus: Int, ok: Bool, errorCode: Int? = nil, description: String? = nil, retryAfter: Int? = nil,
        messageID: Int64? = nil
    ) {
        self.httpStatus = httpStatus
        self.ok = ok
        self.errorCode = errorCode
        self.description = description
        self.retryAfter = retryAfter
        self.messageID = messageID
    }

    /// Decodes an answer. A body that is not the Bot API's JSON (a proxy's error page, say) keeps
    /// the HTTP status as its error code and a short description.
    public static func decode(httpStatus: Int, body: [UInt8]) -> TelegramAnswer {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let ok = object["ok"] as? Bool
        else {
            let snippet = String(decoding: body.prefix(120), as: UTF8.self)
            return TelegramAnswer(
                httpStatus: httpStatus, ok: false, errorCode: httpStatus,
                description: "HTTP \(httpStatus) without a Bot API answer: \(snippet)")
        }
        var answer = TelegramAnswer(httpStatus: httpStatus, ok: ok)
        answer.errorCode = (object["error_code"] as? NSNumber)?.intValue
        answer.description = object["description"] as? String
        if let parameters = object["parameters"] as? [String: Any] {
            answer.retryAfter = (parameters["retry_after"] as? NSNumber)?.intValue
        }
        if let result = object["result"] as? [String: Any] {
            answer.messageID = (result["message_id"] as? NSNumber)?.int64Value
        }
        if !ok && answer.errorCode == nil { answer.errorCode = httpStatus }
        return answer
    }
}

/// A request that got no answer: refused connection, timeout, reset. Transient by nature.
/// The message never contains the bot token.
public struct TelegramTransportError: Error, CustomStringConvertible, Sendable {
    /// Opaque; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        public static let timeout = Code(raw: "timeout")
        public static let connection = Code(raw: "connection")
        public static let other = Code(raw: "other")
        /// The request was never started: its `answerBy` could not be met, or the client is shut down.
        public static let notSent = Code(raw: "not sent")
    }

    public let code: Code
    public let message: String
    /// Whether the whole request may have reached Telegram, so the message may have been
    /// delivered although no answer came (a timeout or a reset after the body was sent). False
    /// only when the request certainly did not get through: no connection, or not started.
    public let mayHaveArrived: Bool

    public init(_ code: Code, _ message: String, mayHaveArrived: Bool? = nil) {
        self.code = code
        self.message = message
        self.mayHaveArrived = mayHaveArrived ?? (code != .connection && code != .notSent)
    }

    public var description: String { "\(code): \(message)" }
}

/// Sends messages to the Bot API. The handlers use this; the libcurl client is the real one.
public protocol TelegramBotAPI: Sendable {
    /// Sends one message and returns Telegram's answer, whatever it is. Throws
    /// `TelegramTransportError` only when no answer came.
    func send(_ message: TelegramOutgoing) async throws -> TelegramAnswer
}
