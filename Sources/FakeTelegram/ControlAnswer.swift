import Foundation

// MARK: Control endpoints

struct ControlAnswer: Encodable {
    var ok: Bool
    var description: String?
}
