import Foundation

/// Sends messages to the Bot API. The handlers use this; the libcurl client is the real one.
public protocol TelegramBotAPI: Sendable {
    /// Sends one message and returns Telegram's answer, whatever it is. Throws
    /// `TelegramTransportError` only when no answer came. Starts the request no earlier than the
    /// message's `sendAt` and, past its `latestStart`, not at all.
    func send(_ message: TelegramOutgoing) async throws -> TelegramAnswer
}
