/// A text with markup Telegram would refuse; `description` follows the words of
/// "Bad Request: can't parse entities: ...".
struct MarkupError: Error, Equatable, CustomStringConvertible {
    let description: String
}
