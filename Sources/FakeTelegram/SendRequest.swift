/// A parsed `sendMessage` or `sendPhoto`.
struct SendRequest: Sendable, Equatable {
    enum Method: String, Sendable {
        case sendMessage
        case sendPhoto
    }

    var method: Method
    var chatID: Int64
    /// The text, or the caption of a photo.
    var text: String
    var photo: String?
    var parseMode: String?
    var paid: Bool
    /// The client's `User-Agent`; kept so a test can tell which process sent a message.
    var userAgent: String? = nil
    /// When the request arrived (ms since 1970), before any injected slow answer.
    var receivedMillis: Int64? = nil
}
