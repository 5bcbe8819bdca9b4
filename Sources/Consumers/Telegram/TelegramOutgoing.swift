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
    /// The send slot: the request does not start before it. The client waits for it on its own
    /// thread, which wakes on time where a task on the cooperative pool may wait for a free thread.
    public var sendAt: ContinuousClock.Instant?
    /// A request that cannot start by then is not sent (`TelegramTransportError.missedSlot`): sent
    /// late in its slot, it would share Telegram's window with the next one.
    public var latestStart: ContinuousClock.Instant?

    public init(
        chatID: Int64, text: String, parseMode: String = "HTML", photoURL: String? = nil, paid: Bool = false,
        answerBy: ContinuousClock.Instant? = nil, sendAt: ContinuousClock.Instant? = nil, latestStart: ContinuousClock.Instant? = nil
    ) {
        self.chatID = chatID
        self.text = text
        self.parseMode = parseMode
        self.photoURL = photoURL
        self.paid = paid
        self.answerBy = answerBy
        self.sendAt = sendAt
        self.latestStart = latestStart
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
