import Testing

@testable import HTTPFront

@Suite("HTTP front: the strict JSON parser")
struct JSONValueTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func refusal(_ text: String) -> JSONValue.SyntaxError? {
        do {
            _ = try JSONValue.parse(Array(text.utf8))
            return nil
        } catch { return error }
    }

    @Test("values of every type, with whitespace around them")
    func values() throws {
        #expect(
            try parse(#" {"a": [1, -2.5, true, false, null], "b": {"c": "d"}, "e": ""} "#)
                == .object([
                    "a": .array([.int(1), .double(-2.5), .bool(true), .bool(false), .null]), "b": .object(["c": .string("d")]),
                    "e": .string(""),
                ]))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse("\"x\"") == .string("x"))
    }

    @Test("integers stay exact within Int64; anything else is a double")
    func numbers() throws {
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("1.0") == .double(1))
        #expect(try parse("1e2") == .double(100))
        #expect(try parse("2E-1") == .double(0.2))
    }

    @Test("escapes, surrogate pairs and raw UTF-8 in strings")
    func strings() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
        #expect(try parse("\"jörg 😀\"") == .string("jörg 😀"))
    }

    @Test(
        "malformed documents are refused with the reason",
        arguments: [
            ("", "unexpected end of input") as (String, String), ("{", "expected a quoted key"), ("[1,]", "unexpected character"),
            ("{\"a\":1,}", "expected a quoted key"), ("{\"a\" 1}", "expected ':' after a key"), ("[1 2]", "expected ',' or ']'"),
            ("{\"a\":1 \"b\":2}", "expected ',' or '}'"), ("01", "leading zeros are not allowed"), ("1.", "expected a digit after '.'"),
            ("1e", "expected a digit in the exponent"), ("-", "expected a digit"), ("+1", "unexpected character"),
            ("1e999", "number out of range"), ("tru", "unexpected end of input"), ("nul!", "unexpected character"),
            ("\"abc", "unterminated string"), ("\"a\u{1}\"", "control character in a string"), (#""\x""#, "invalid escape"),
            (#""\u12g4""#, #"invalid \u escape"#), (#""\ud83d""#, "a high surrogate must be followed by a low one"),
            (#""\ude00""#, "a low surrogate without a high one"), ("{} {}", "unexpected data after the JSON value"),
            (#"{"a":1,"a":2}"#, "key \"a\" appears twice"), ("NaN", "unexpected character"),
            (String(repeating: "9", count: 41), "number longer than 40 characters"),
            ("0." + String(repeating: "1", count: 39), "number longer than 40 characters"),
        ])
    func malformed(text: String, reason: String) {
        #expect(refusal(text)?.reason == reason, "\(text)")
    }

    @Test("invalid UTF-8 and deep nesting are refused")
    func limits() throws {
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        // The offset is the bad byte's: `"ab` then 0xFF.
        #expect(throws: JSONValue.SyntaxError(reason: "a string is not valid UTF-8", offset: 3)) {
            try JSONValue.parse([0x22, 0x61, 0x62, 0xFF, 0x22])
        }
        let deep = String(repeating: "[", count: JSONValue.maxDepth + 1) + String(repeating: "]", count: JSONValue.maxDepth + 1)
        #expect(refusal(deep)?.reason == "nested deeper than \(JSONValue.maxDepth) levels")
        let ok = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(try parse(ok) != .null)
    }

    @Test("the offset points at the first wrong byte")
    func offsets() {
        #expect(refusal(#"{"a":tru}"#)?.offset == 5)
        #expect(refusal(#"{"a":1,"a":2}"#)?.offset == 7)
    }
}
