import Foundation

// MARK: Bot API answers

struct ErrorBody: Encodable {
    struct Parameters: Encodable {
        var retryAfter: Int
    }

    let ok = false
    var errorCode: Int
    var description: String
    var parameters: Parameters?
}
