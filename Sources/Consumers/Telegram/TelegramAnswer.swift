import Foundation

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
