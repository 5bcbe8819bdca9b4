import Foundation
import Jobs
import Testing

@Suite("Schemas")
struct SchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func schema(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/jobs/\(name)"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("the envelope schema names exactly the fields the encoder writes")
    func envelopeFields() throws {
        let schema = try Self.schema("envelope.schema.json")
        let properties = try #require(schema["properties"] as? [String: Any])
        let required = try #require(schema["required"] as? [String])
        let full = JobEnvelope(
            id: .generate(millis: 1), kind: "k", payload: [], attempt: 2, enqueuedAt: 1, notBefore: 2, idempotencyKey: "i",
            traceContext: "t", snoozes: 1, redrives: 1, errors: [AttemptError(attempt: 1, at: 1, error: "e")])
        #expect(Set(full.fields().map(\.0)) == Set(properties.keys))
        let minimal = JobEnvelope(id: .generate(millis: 1), kind: "k", payload: [], enqueuedAt: 1)
        #expect(Set(required).isSubset(of: Set(minimal.fields().map(\.0))))
    }

    @Test("every registered job kind has a payload schema")
    func kindsHaveSchemas() throws {
        for kind in try AppKinds.registry().all {
            let schema = try Self.schema("\(kind.name).schema.json")
            #expect(schema["type"] as? String == "object", "\(kind.name)")
        }
    }
}
