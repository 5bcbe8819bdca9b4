import Foundation

/// `chat_id` as a number or as a string. A string that is not a number (an `@username`) is no
/// chat the fake knows.
struct ChatIDValue: Decodable {
    var id: Int64?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            id = number
        } else {
            id = Int64(try container.decode(String.self))
        }
    }
}
