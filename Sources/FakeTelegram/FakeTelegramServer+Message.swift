extension FakeTelegramServer {
    /// One accepted message.
    public struct Message: Sendable, Equatable {
        /// Unique across chats and across ``FakeTelegramServer/reset()``, increasing from 1.
        public var messageID: Int64
        public var chatID: Int64
        /// "sendMessage" or "sendPhoto".
        public var method: String
        /// The text, or the caption of a photo, as sent (markup included).
        public var text: String
        /// The photo URL or file id of a `sendPhoto`.
        public var photo: String?
        /// The `parse_mode` as sent, if any.
        public var parseMode: String?
        /// Sent with `allow_paid_broadcast: true`.
        public var paid: Bool
        /// When it arrived, on the clock the flood windows use.
        public var at: ContinuousClock.Instant
        /// When it arrived, in milliseconds since 1970.
        public var unixMillis: Int64
        /// The sender's `User-Agent` header, if it sent one.
        public var userAgent: String?
        /// When its request arrived (ms since 1970). Earlier than `unixMillis` by an injected slow
        /// answer: the sender may have died between the two.
        public var receivedMillis: Int64
        /// The status answered instead of 200 although the message was recorded (502, see
        /// ``Configuration/gatewayAfterRecordRate``); nil when it was answered 200.
        public var answeredStatus: Int?

        public init(
            messageID: Int64, chatID: Int64, method: String, text: String, photo: String?, parseMode: String?,
            paid: Bool, at: ContinuousClock.Instant, unixMillis: Int64, userAgent: String? = nil, receivedMillis: Int64? = nil,
            answeredStatus: Int? = nil
        ) {
            self.answeredStatus = answeredStatus
            self.userAgent = userAgent
            self.receivedMillis = receivedMillis ?? unixMillis
            self.messageID = messageID
            self.chatID = chatID
            self.method = method
            self.text = text
            self.photo = photo
            self.parseMode = parseMode
            self.paid = paid
            self.at = at
            self.unixMillis = unixMillis
        }
    }
}
