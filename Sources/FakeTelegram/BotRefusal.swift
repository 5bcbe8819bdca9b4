/// A Bot API refusal: `{"ok":false,"error_code":status,"description":...}`.
struct BotRefusal: Error, Equatable {
    var status: Int
    var description: String
    /// Seconds, with a 429.
    var retryAfter: Int?

    static let unauthorized = BotRefusal(status: 401, description: "Unauthorized")
    static let notFound = BotRefusal(status: 404, description: "Not Found")
    static let blocked = BotRefusal(status: 403, description: "Forbidden: bot was blocked by the user")
    static let chatNotFound = BotRefusal(status: 400, description: "Bad Request: chat not found")
    static let tooLarge = BotRefusal(status: 413, description: "Request Entity Too Large")

    static func badRequest(_ detail: String) -> BotRefusal {
        BotRefusal(status: 400, description: "Bad Request: \(detail)")
    }

    static func tooManyRequests(retryAfter: Int) -> BotRefusal {
        BotRefusal(status: 429, description: "Too Many Requests: retry after \(retryAfter)", retryAfter: retryAfter)
    }
}
