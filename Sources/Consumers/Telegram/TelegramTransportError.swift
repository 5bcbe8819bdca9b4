import Foundation

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
        /// The request was never started: it could not start by its `latestStart`.
        public static let missedSlot = Code(raw: "missed slot")
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
        self.mayHaveArrived = mayHaveArrived ?? (code != .connection && code != .notSent && code != .missedSlot)
    }

    public var description: String { "\(code): \(message)" }
}
