import Foundation

struct GetMeBody: Encodable {
    let ok = true
    var result: BotUser
}
