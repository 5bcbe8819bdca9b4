import Foundation

/// Sends messages to the Bot API. The handlers use this; the libcurl client is the real one.
public protocol TelegramBotAPI: Sendable {
    /// Sends one message and returns Telegram's answer, whatever it is. Throws
    /// `TelegramTransportError` only when no answer came.
    func send(_ message: TelegramOutgoing) async throws -> TelegramAnswer
}
