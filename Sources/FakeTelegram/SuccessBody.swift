import Foundation

struct SuccessBody: Encodable {
    let ok = true
    var result: ResultMessage
}
