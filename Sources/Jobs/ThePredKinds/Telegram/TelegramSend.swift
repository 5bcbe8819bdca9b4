import Jobs

/// `telegram.send`: one message to one chat, through the Bot API.
public struct TelegramSend: Codable, Sendable, Equatable {
    /// Why the message is sent, for the delivery log.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case leaderboardReward = "LEADERBOARD_REWARD", marketResolved = "MARKET_RESOLVED", betWon = "BET_WON"
        case betLost = "BET_LOST", missionCompleted = "MISSION_COMPLETED", broadcast = "BROADCAST", system = "SYSTEM"
    }

    public enum ParseMode: String, Codable, Sendable, CaseIterable {
        case html = "HTML", markdown = "Markdown"
    }

    public var telegramID: Int64
    public var kind: Kind
    /// At most 4096 characters, or 1024 as a photo caption.
    public var text: String
    public var parseMode: ParseMode
    public var photoURL: String?
    public var broadcastID: Int64?
    /// The market a settlement notification is about, so its progress can be counted.
    public var marketID: Int64?
    /// Sent in the paid-broadcast lane (`allow_paid_broadcast`).
    public var paid: Bool?

    public init(
        telegramID: Int64, kind: Kind, text: String, parseMode: ParseMode = .html, photoURL: String? = nil,
        broadcastID: Int64? = nil, marketID: Int64? = nil, paid: Bool? = nil
    ) {
        self.telegramID = telegramID
        self.kind = kind
        self.text = text
        self.parseMode = parseMode
        self.photoURL = photoURL
        self.broadcastID = broadcastID
        self.marketID = marketID
        self.paid = paid
    }

    enum CodingKeys: String, CodingKey {
        case telegramID = "telegram_id", kind, text, parseMode = "parse_mode", photoURL = "photo_url"
        case broadcastID = "broadcast_id", marketID = "market_id", paid
    }

    /// 5xx, timeouts and connection errors are retried at most 5 times (domain.md).
    static let retry = RetryPolicy.exponentialJitter(maxAttempts: 5, maxBackoff: .seconds(300))

    /// The interactive class: the answer to what a user just did. Its queue, `telegram`, never
    /// holds a broadcast's or a settlement's backlog, so these are fetched at once.
    public static let kind = JobKind<TelegramSend>("telegram.send", queue: "telegram", retry: retry, timeout: .seconds(30))
    /// The results class: settlement notifications and leaderboard rewards.
    public static let resultsKind = JobKind<TelegramSend>(
        "telegram.send.results", queue: "telegram-results", retry: retry, timeout: .seconds(30))
    /// The bulk class: broadcasts, in the free lane or the paid one.
    public static let bulkKind = JobKind<TelegramSend>("telegram.send.bulk", queue: "telegram-bulk", retry: retry, timeout: .seconds(30))

    /// The kind (and so the queue) of each priority class.
    public static func kind(for priority: Priority) -> JobKind<TelegramSend> {
        switch priority {
        case .interactive: kind
        case .results: resultsKind
        case .bulk: bulkKind
        }
    }

    /// The priority class of a kind's name; nil for a name that is not one of the three.
    public static func priority(ofKind name: String) -> Priority? {
        Priority.allCases.first { kind(for: $0).name.rawValue == name }
    }

    /// The kind this message is enqueued as, by why it is sent.
    public var jobKind: JobKind<TelegramSend> { Self.kind(for: kind.priority) }
}

extension TelegramSend {
    /// Who waits for a message, which decides how it shares the bot's 30 messages a second.
    public enum Priority: String, Sendable, CaseIterable, Codable {
        /// A user just did something (a bet made a mission complete, a referral paid): first.
        case interactive
        /// Settlement notifications and leaderboard rewards: share what interactive leaves with bulk.
        case results
        /// Broadcasts.
        case bulk
    }
}

extension TelegramSend.Kind {
    /// The class a message of this kind is sent in.
    public var priority: TelegramSend.Priority {
        switch self {
        case .missionCompleted, .system: .interactive
        case .betWon, .betLost, .marketResolved, .leaderboardReward: .results
        case .broadcast: .bulk
        }
    }
}

extension TelegramSend: SelfEncodingPayload {
    /// The payload's JSON, written directly: settlement encodes a million of these, and
    /// JSONEncoder was the largest cost of the worker doing it. Decodes to the same value.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 96)
        var first = true
        func key(_ k: String) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: k.utf8)
            out.append(contentsOf: "\":".utf8)
        }
        func string(_ s: String) { JSONText.appendString(s, to: &out) }
        if let broadcastID { key("broadcast_id"); out.append(contentsOf: String(broadcastID).utf8) }
        key("kind"); string(kind.rawValue)
        if let marketID { key("market_id"); out.append(contentsOf: String(marketID).utf8) }
        if let paid { key("paid"); out.append(contentsOf: (paid ? "true" : "false").utf8) }
        key("parse_mode"); string(parseMode.rawValue)
        if let photoURL { key("photo_url"); string(photoURL) }
        key("telegram_id"); out.append(contentsOf: String(telegramID).utf8)
        key("text"); string(text)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
