import Jobs

/// A transient send failure; the job is retried.
struct TelegramSendError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
