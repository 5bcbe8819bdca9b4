extension PostgresValue {
    /// A `bigint[]` parameter, in PostgreSQL's array text form.
    public static func bigintArray(_ values: [Int64]) -> PostgresValue {
        var text = "{"
        text.reserveCapacity(values.count * 8 + 2)
        for (i, v) in values.enumerated() {
            if i > 0 { text += "," }
            text += String(v)
        }
        return .text(text + "}")
    }

    /// A `text[]` parameter; every element is quoted and escaped. Escaped byte by byte: a quote
    /// followed by a combining mark is one Character that is not equal to `"`, and PostgreSQL's
    /// array parser would end the element at its quote.
    public static func textArray(_ values: [String]) -> PostgresValue {
        var text: [UInt8] = [UInt8(ascii: "{")]
        for (i, v) in values.enumerated() {
            if i > 0 { text.append(UInt8(ascii: ",")) }
            text.append(UInt8(ascii: "\""))
            for byte in v.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { text.append(UInt8(ascii: "\\")) }
                text.append(byte)
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return .text(String(decoding: text, as: UTF8.self))
    }
}
