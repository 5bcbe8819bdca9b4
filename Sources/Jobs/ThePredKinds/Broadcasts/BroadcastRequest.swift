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

    /// `http(s)://host[:port][/path]` with a host of letters, digits, dots and hyphens and a path
    /// of printable ASCII: the OpenAPI document's pattern for photo_url, checked byte by byte so
    /// the two cannot disagree.
    static func isPhotoURL(_ url: String) -> Bool {
        var rest = Substring(url.lowercased())
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else {
            return false
        }
        let bytes = Array(url.utf8.suffix(rest.utf8.count))
        var i = 0
        func isHost(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "-")
        }
        while i < bytes.count, isHost(bytes[i]) { i += 1 }
        guard i > 0 else { return false }
        if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
            let start = i + 1
            i = start
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
            guard (1...5).contains(i - start) else { return false }
        }
        guard i < bytes.count else { return true }
        guard bytes[i] == UInt8(ascii: "/") else { return false }
        return bytes[(i + 1)...].allSatisfy { (0x21...0x7E).contains($0) }
    }

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
            if photoURL.utf8.count > 2048 { throw FieldError(field: "photo_url", "photo_url is longer than 2048 bytes") }
            guard Self.isPhotoURL(photoURL) else {
                throw FieldError(field: "photo_url", "photo_url must be an http(s) URL: http(s)://host[:port][/path], printable ASCII")
            }
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
