import Foundation

/// What an admin asks to broadcast. `validate` holds the rules every producer applies before
/// anything is queued: the CLI, the HTTP front and the `broadcast.create` handler.
public struct BroadcastRequest: Codable, Sendable, Equatable {
    public enum Target: String, Codable, Sendable, CaseIterable { case all, user }

    public var text: String
    public var parseMode: TelegramSend.ParseMode
    public var photoURL: String?
    public var target: Target
    /// The one recipient when `target` is `user`.
    public var telegramID: Int64?
    /// When to start (ms since the epoch); nil starts now.
    public var scheduledAtMillis: Int64?
    /// Sends in the paid-broadcast lane (up to 1000/s, charged by Telegram).
    public var paid: Bool?

    public init(
        text: String, parseMode: TelegramSend.ParseMode = .html, photoURL: String? = nil, target: Target = .all,
        telegramID: Int64? = nil, scheduledAtMillis: Int64? = nil, paid: Bool? = nil
    ) {
        self.text = text
        self.parseMode = parseMode
        self.photoURL = photoURL
        self.target = target
        self.telegramID = telegramID
        self.scheduledAtMillis = scheduledAtMillis
        self.paid = paid
    }

    enum CodingKeys: String, CodingKey {
        case text, parseMode = "parse_mode", photoURL = "photo_url", target, telegramID = "telegram_id"
        case scheduledAtMillis = "scheduled_at_ms", paid
    }

    /// Telegram's limits: a message's text, and a photo's caption.
    public static let maxText = 4096
    public static let maxCaption = 1024

    /// A text's length as the job schemas' maxLength counts it: code points, not what a screen
    /// shows as one character, so a text that passes never breaks its `telegram.send` schema.
    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// Checks every rule; the first broken one is thrown. `now` is ms since the epoch.
    public func validate(now: Int64) throws(FieldError) {
        let limit = photoURL == nil ? Self.maxText : Self.maxCaption
        if text.isEmpty || text.allSatisfy(\.isWhitespace) {
            throw FieldError(field: "text", "text must not be empty")
        }
        if Self.length(text) > limit {
            throw FieldError(
                field: "text",
                "text is \(Self.length(text)) characters; at most \(limit) are allowed\(photoURL == nil ? "" : " as a photo caption")")
        }
        if let photoURL {
            guard let url = URL(string: photoURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = url.host, !host.isEmpty
            else { throw FieldError(field: "photo_url", "photo_url must be an http(s) URL") }
            if photoURL.utf8.count > 2048 { throw FieldError(field: "photo_url", "photo_url is longer than 2048 bytes") }
        }
        switch target {
        case .all:
            if telegramID != nil { throw FieldError(field: "telegram_id", "telegram_id is only for target user") }
        case .user:
            guard let id = telegramID else { throw FieldError(field: "telegram_id", "target user needs a telegram_id") }
            if id == 0 { throw FieldError(field: "telegram_id", "telegram_id must not be 0") }
        }
        if let at = scheduledAtMillis, at <= now {
            throw FieldError(field: "scheduled_at", "scheduled_at must be in the future")
        }
    }
}
