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

    /// A `text[]` parameter; every element is quoted and escaped.
    public static func textArray(_ values: [String]) -> PostgresValue {
        var text = "{"
        for (i, v) in values.enumerated() {
            if i > 0 { text += "," }
            text += "\""
            for ch in v {
                if ch == "\"" || ch == "\\" { text.append("\\") }
                text.append(ch)
            }
            text += "\""
        }
        return .text(text + "}")
    }
}
