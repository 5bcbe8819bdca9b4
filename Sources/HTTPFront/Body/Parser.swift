struct Parser {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func fail(_ reason: String) -> JSONValue.SyntaxError { .init(reason: reason, offset: at) }

    var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONValue.SyntaxError) -> JSONValue {
        guard let c = peek else { throw fail("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONValue.SyntaxError) {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { throw fail("unexpected end of input") }
        for i in 0..<n where bytes[at + i] != word.utf8Start[i] { throw fail("unexpected character") }
        at += n
    }

    mutating func object(depth: Int) throws(JSONValue.SyntaxError) -> JSONValue {
        if depth > JSONValue.maxDepth { throw fail("nested deeper than \(JSONValue.maxDepth) levels") }
        at += 1
        var fields: [String: JSONValue] = [:]
        skipSpace()
        if peek == UInt8(ascii: "}") {
            at += 1
            return .object(fields)
        }
        while true {
            guard peek == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
            let keyAt = at
            let key = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            at += 1
            skipSpace()
            let value = try value(depth: depth)
            if fields.updateValue(value, forKey: key) != nil {
                throw JSONValue.SyntaxError(reason: "key \"\(key.prefix(40))\" appears twice", offset: keyAt)
            }
            skipSpace()
            switch peek {
            case UInt8(ascii: ",")?:
                at += 1
                skipSpace()
            case UInt8(ascii: "}")?:
                at += 1
                return .object(fields)
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONValue.SyntaxError) -> JSONValue {
        if depth > JSONValue.maxDepth { throw fail("nested deeper than \(JSONValue.maxDepth) levels") }
        at += 1
        var items: [JSONValue] = []
        skipSpace()
        if peek == UInt8(ascii: "]") {
            at += 1
            return .array(items)
        }
        while true {
            items.append(try value(depth: depth))
            skipSpace()
            switch peek {
            case UInt8(ascii: ",")?:
                at += 1
                skipSpace()
            case UInt8(ascii: "]")?:
                at += 1
                return .array(items)
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    /// A string; the common case, with no escapes, is validated and copied once.
    mutating func string() throws(JSONValue.SyntaxError) -> String {
        at += 1
        let start = at
        while at < bytes.count {
            let c = bytes[at]
            if c == UInt8(ascii: "\"") {
                defer { at += 1 }
                return try text(UnsafeRawBufferPointer(rebasing: bytes[start..<at]), offset: start)
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in a string") }
            at += 1
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let c = bytes[at]
            switch c {
            case UInt8(ascii: "\""):
                at += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    // Escapes only add valid UTF-8, so a bad byte is one copied from the input;
                    // its place in the input is not tracked, so the string's start is reported.
                    throw JSONValue.SyntaxError(reason: "a string is not valid UTF-8", offset: start)
                }
                return s
            case UInt8(ascii: "\\"):
                at += 1
                guard let e = peek else { throw fail("unexpected end of input") }
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): appendScalar(try unicodeEscape(), to: &out)
                default:
                    at -= 1
                    throw fail("invalid escape")
                }
            default:
                if c < 0x20 { throw fail("control character in a string") }
                out.append(c)
                at += 1
            }
        }
        throw fail("unterminated string")
    }

    func text(_ raw: UnsafeRawBufferPointer, offset: Int) throws(JSONValue.SyntaxError) -> String {
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw JSONValue.SyntaxError(reason: "a string is not valid UTF-8", offset: offset + Self.firstInvalidUTF8(raw))
        }
        return s
    }

    /// Where the first invalid UTF-8 sequence starts, for the error message.
    static func firstInvalidUTF8(_ raw: some Collection<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var it = raw.makeIterator()
        var at = 0
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let scalar): at += scalar.count
            case .error: return at
            case .emptyInput: return at
            }
        }
    }

    /// `\uXXXX`, joined with a following low surrogate when it is a high one.
    mutating func unicodeEscape() throws(JSONValue.SyntaxError) -> Unicode.Scalar {
        let first = try hex4()
        switch first {
        case 0xD800...0xDBFF:
            guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                throw fail("a high surrogate must be followed by a low one")
            }
            at += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw fail("a high surrogate must be followed by a low one") }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        case 0xDC00...0xDFFF:
            throw fail("a low surrogate without a high one")
        default:
            return Unicode.Scalar(first)!
        }
    }

    mutating func hex4() throws(JSONValue.SyntaxError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw fail("unexpected end of input") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[at]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            at += 1
        }
        return v
    }

    func appendScalar(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }

    /// An integer when it has no fraction or exponent and fits Int64; a double otherwise.
    mutating func number() throws(JSONValue.SyntaxError) -> JSONValue {
        let start = at
        let negative = peek == UInt8(ascii: "-")
        if negative { at += 1 }
        var integral: Int64 = 0
        var fits = true
        guard let first = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw fail("expected a digit") }
        if first == UInt8(ascii: "0") {
            at += 1
            if let next = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) { throw fail("leading zeros are not allowed") }
        } else {
            while let c = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) {
                // Accumulated as a negative number, so Int64.min fits too.
                let (m, o1) = integral.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.subtractingReportingOverflow(Int64(c - UInt8(ascii: "0")))
                if o1 || o2 { fits = false } else { integral = s }
                at += 1
            }
        }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            isInteger = false
            at += 1
            guard digits() > 0 else { throw fail("expected a digit after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            at += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw fail("expected a digit in the exponent") }
        }
        if isInteger && fits {
            if negative { return .int(integral) }
            if integral != .min { return .int(-integral) }
        }
        // No field takes more than 20 digits; a megabyte of them would only cost time to convert.
        if at - start > JSONValue.maxNumberLength {
            throw JSONValue.SyntaxError(reason: "number longer than \(JSONValue.maxNumberLength) characters", offset: start)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw JSONValue.SyntaxError(reason: "number out of range", offset: start) }
        return .double(d)
    }

    mutating func digits() -> Int {
        var n = 0
        while let c = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) {
            at += 1
            n += 1
        }
        return n
    }
}
