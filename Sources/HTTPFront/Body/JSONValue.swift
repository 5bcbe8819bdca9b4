/// A JSON value as the client sent it, so each field's type can be checked and named in the refusal.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Why bytes are not JSON, and where: the byte offset of the first thing that is wrong.
    struct SyntaxError: Error, Equatable, CustomStringConvertible {
        let reason: String
        let offset: Int
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// Deeper documents are refused: no route takes more than three levels, and recursion must stay bounded.
    static let maxDepth = 64

    /// Longer number literals are refused: an integer field takes at most 20 characters, and a
    /// double needs no more than 17 significant digits and an exponent.
    static let maxNumberLength = 40

    /// Parses exactly one RFC 8259 value, with nothing but whitespace around it. Stricter than
    /// Foundation where it matters to a front: a repeated key or invalid UTF-8 is an error, not a guess.
    /// It replaces JSONDecoder on the request path, which threw and formatted an error for each
    /// type it tried and cost more than everything else a bet does.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        if parser.at < bytes.count { throw parser.fail("unexpected data after the JSON value") }
        return value
    }

    static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        try bytes.withUnsafeBytes { raw in Result { () throws(SyntaxError) in try parse(raw) } }.get()
    }
}
