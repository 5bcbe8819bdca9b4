import Foundation
import Hummingbird

/// A request body read strictly: a JSON object within the size limit, each field taken with its
/// type and range checked, and any field not taken refused by `finish()`.
struct JSONBody {
    private let fields: [String: JSONValue]
    private var taken: Set<String> = []

    init(fields: [String: JSONValue]) { self.fields = fields }

    /// Reads the body. An empty body is an empty object, for routes whose fields are all optional.
    static func read(_ request: Request, context: some RequestContext) async throws -> JSONBody {
        let limit = context.maxUploadSize
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, .tooLarge, "the body is \(length) bytes; at most \(limit) are allowed")
        }
        let buffer = try await request.body.collect(upTo: limit)
        if buffer.readableBytes == 0 { return JSONBody(fields: [:]) }
        guard let type = request.headers[.contentType], Self.isJSON(type) else {
            throw APIError(
                .unsupportedMediaType, .unsupportedMediaType,
                "the body must be JSON, sent as Content-Type: application/json (got \(request.headers[.contentType] ?? "none"))")
        }
        let value: JSONValue
        do {
            value = try buffer.withUnsafeReadableBytes { raw throws(JSONValue.SyntaxError) in try JSONValue.parse(raw) }
        } catch {
            throw APIError(.badRequest, .invalidJSON, "the body is not valid JSON: \(error)")
        }
        guard case .object(let fields) = value else {
            throw APIError(.badRequest, .invalidJSON, "the body must be a JSON object, not \(value.typeName)")
        }
        return JSONBody(fields: fields)
    }

    /// `application/json`, in any case, with or without parameters such as `charset`.
    static func isJSON(_ contentType: String) -> Bool {
        var media = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        while let last = media.last, last == 0x20 || last == 0x09 { media = media.dropLast() }
        while let first = media.first, first == 0x20 || first == 0x09 { media = media.dropFirst() }
        let expected = "application/json".utf8
        return media.count == expected.count
            && zip(media, expected).allSatisfy { ((0x41...0x5A).contains($0) ? $0 | 0x20 : $0) == $1 }
    }

    private mutating func take(_ name: String, required: Bool) throws(APIError) -> JSONValue? {
        // Only fields that are there, so `finish` can compare counts.
        if fields[name] != nil { taken.insert(name) }
        switch fields[name] {
        case nil:
            if required { throw .invalid(name, "\(name) is required") }
            return nil
        case .null?:
            // The document gives every field a type, and null is none of them: leave it out.
            throw .invalid(name, required ? "\(name) is required and must not be null" : "\(name) must not be null; leave it out instead")
        case let value?:
            return value
        }
    }

    mutating func int(_ name: String, required: Bool = true, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let value = try take(name, required: required) else { return nil }
        guard case .int(let n) = value else {
            if case .double(let d) = value {
                // Whole, but past Int64 (9223372036854775808 and beyond): the parser kept it as a double.
                if d.rounded() == d, d.magnitude >= 0x1p63 {
                    throw .invalid(
                        name,
                        "\(name) must be within \(range.lowerBound)...\(range.upperBound); got a number outside the 64-bit integer range")
                }
                throw .invalid(name, "\(name) must be a whole number")
            }
            throw .invalid(name, "\(name) must be an integer, not \(value.typeName)")
        }
        guard range.contains(n) else { throw .invalid(name, "\(name) must be within \(range.lowerBound)...\(range.upperBound); got \(n)") }
        return n
    }

    mutating func string(_ name: String, required: Bool = true, length: ClosedRange<Int>) throws(APIError) -> String? {
        guard let value = try take(name, required: required) else { return nil }
        guard case .string(let s) = value else { throw .invalid(name, "\(name) must be a string, not \(value.typeName)") }
        // Counted in code points, as the job schemas' maxLength and PostgreSQL's length() count.
        let count = s.unicodeScalars.count
        if count < length.lowerBound {
            throw .invalid(
                name, length.lowerBound == 1 ? "\(name) must not be empty" : "\(name) must have at least \(length.lowerBound) characters")
        }
        // The workers trim text and refuse it blank; PostgreSQL text cannot hold U+0000.
        if length.lowerBound >= 1 && s.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            throw .invalid(name, "\(name) must not be blank")
        }
        if s.unicodeScalars.contains("\u{0}") { throw .invalid(name, "\(name) must not contain U+0000") }
        if count > length.upperBound { throw .invalid(name, "\(name) has \(count) characters; at most \(length.upperBound) are allowed") }
        return s
    }

    mutating func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = try take(name, required: false) else { return nil }
        guard case .bool(let b) = value else { throw .invalid(name, "\(name) must be true or false, not \(value.typeName)") }
        return b
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ name: String, required: Bool = true, _ type: E.Type) throws(APIError) -> E?
    where E.RawValue == String {
        guard let value = try take(name, required: required) else { return nil }
        if case .string(let s) = value, let e = E(rawValue: s) { return e }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let s) = value else { throw .invalid(name, "\(name) must be one of \(allowed)") }
        throw .invalid(name, "\(name) must be one of \(allowed); got \"\(s.prefix(40))\"")
    }

    /// An RFC 3339 date-time with its offset (`2026-12-01T18:00:00Z`), as ms since the epoch.
    mutating func time(_ name: String, required: Bool = true) throws(APIError) -> Int64? {
        guard let value = try take(name, required: required) else { return nil }
        guard case .string(let s) = value, let ms = RFC3339.millis(s) else {
            throw .invalid(name, "\(name) must be an RFC 3339 date-time such as 2026-12-01T18:00:00Z")
        }
        return ms
    }

    /// Refuses the first field no reader took.
    func finish() throws(APIError) {
        // Every field taken (the usual case) needs no search.
        if fields.count == taken.count { return }
        if let unknown = fields.keys.sorted().first(where: { !taken.contains($0) }) {
            throw APIError(.unprocessableContent, .unknownField, "unknown field \(unknown)", field: unknown)
        }
    }
}
