import Jobs
import Foundation

/// A `POST /fake/config` body: what it names changes, the rest stays.
struct ConfigPatch: Decodable {
    var blocked: [Int64]?
    var unknownChats: [Int64]?
    var failureRate: Double?
    var slowRate: Double?
    var gatewayAfterRecordRate: Double?
    var slowDelayMs: Int64?
    var failNext: Int?
    var failStatus: Int?

    /// A patch that says something wrong.
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    private static let fields: Set<String> = [
        "blocked", "unknown_chats", "failure_rate", "slow_rate", "slow_delay_ms", "fail_next", "fail_status",
        "gateway_after_record_rate",
    ]

    /// Refuses unknown fields, so a misspelt one is not silently a no-op.
    init(json: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw Invalid(description: "the body must be a JSON object")
        }
        if let unknown = object.keys.filter({ !Self.fields.contains($0) }).sorted().first {
            throw Invalid(description: "unknown field \"\(unknown)\"; known: \(Self.fields.sorted().joined(separator: ", "))")
        }
        do {
            self = try JSONDecoder.snakeCase.decode(ConfigPatch.self, from: json)
        } catch {
            throw Invalid(description: "a field has the wrong type: \(error)")
        }
        let rates = [
            ("failure_rate", failureRate), ("slow_rate", slowRate), ("gateway_after_record_rate", gatewayAfterRecordRate),
        ]
        for (name, rate) in rates {
            if let rate, !(0...1).contains(rate) { throw Invalid(description: "\(name) must be within 0...1") }
        }
        if let slowDelayMs, slowDelayMs < 0 { throw Invalid(description: "slow_delay_ms must not be negative") }
        if let failNext, failNext < 0 { throw Invalid(description: "fail_next must not be negative") }
        if let failStatus, !(500...599).contains(failStatus) {
            throw Invalid(description: "fail_status must be within 500...599")
        }
    }

    func apply(to state: inout FakeTelegramState) {
        if let blocked { state.configuration.blocked = Set(blocked) }
        if let unknownChats { state.configuration.unknownChats = Set(unknownChats) }
        if let failureRate { state.configuration.failureRate = failureRate }
        if let slowRate { state.configuration.slowRate = slowRate }
        if let gatewayAfterRecordRate { state.configuration.gatewayAfterRecordRate = gatewayAfterRecordRate }
        if let slowDelayMs { state.configuration.slowDelay = .milliseconds(slowDelayMs) }
        if let failStatus { state.failNext.status = failStatus }
        if let failNext { state.failNext.count = failNext }
    }
}
