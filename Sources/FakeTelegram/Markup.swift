/// The markup checks of the Bot API's `parse_mode`, after tdlib's parsers (`parse_html`,
/// `parse_markdown`): the same refusals, the same wording, byte offsets into the UTF-8 text.
///
/// One deliberate difference: tdlib keeps a bare `&` as text, while Telegram's documentation
/// says every `&` outside an entity must be written `&amp;`. The fake refuses it, so a sender
/// that forgets to escape is caught here rather than by a message that shows `&amp;` wrong.
enum Markup {
    /// Checks `text` for `parseMode` ("HTML", "Markdown", case-insensitive). Other modes,
    /// MarkdownV2 among them, are taken as plain text: the project never sends them.
    static func parse(_ text: String, parseMode: String?) throws(MarkupError) -> VisibleText {
        let bytes = Array(text.utf8)
        switch parseMode?.lowercased() {
        case "html": return try parseHTML(bytes)
        case "markdown": return try parseMarkdown(bytes)
        default:
            var visible = VisibleText()
            for byte in bytes { visible.append(byte) }
            return visible
        }
    }

    // MARK: HTML

    static let htmlTags: Set<String> = [
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "code", "pre",
        "blockquote", "tg-emoji",
    ]

    static func parseHTML(_ text: [UInt8]) throws(MarkupError) -> VisibleText {
        var visible = VisibleText()
        var open: [String] = []
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == ascii("&") {
                guard let (scalar, next) = decodeEntity(text, at: i) else {
                    throw MarkupError(
                        description: "Character \"&\" at byte offset \(i) does not begin an entity; write it as &amp;")
                }
                visible.append(scalar: scalar)
                i = next
                continue
            }
            guard c == ascii("<") else {
                visible.append(c)
                i += 1
                continue
            }
            let begin = i
            if byte(text, i + 1) == ascii("/") {
                guard let expected = open.last else {
                    throw MarkupError(description: "Unexpected end tag at byte offset \(begin)")
                }
                i += 2
                let nameBegin = i
                while i < text.count && !isSpace(text[i]) && text[i] != ascii(">") { i += 1 }
                let name = lowercased(text[nameBegin..<i])
                while i < text.count && isSpace(text[i]) { i += 1 }
                guard i < text.count && text[i] == ascii(">") else {
                    throw MarkupError(description: "Unclosed end tag at byte offset \(begin)")
                }
                // tdlib lets `</>` close whatever is open.
                guard name.isEmpty || name == expected else {
                    throw MarkupError(
                        description:
                            "Unmatched end tag at byte offset \(begin), expected \"</\(expected)>\", found \"</\(name)>\"")
                }
                open.removeLast()
                i += 1
                continue
            }
            i += 1
            let nameBegin = i
            while i < text.count && !isSpace(text[i]) && text[i] != ascii(">") { i += 1 }
            guard i < text.count else { throw MarkupError(description: "Unclosed start tag at byte offset \(begin)") }
            let name = lowercased(text[nameBegin..<i])
            guard htmlTags.contains(name) else {
                throw MarkupError(description: "Unsupported start tag \"\(name)\" at byte offset \(begin)")
            }
            let attributes = try parseAttributes(text, at: &i, tag: name, tagBegin: begin)
            if name == "span" && attributes["class"] != "tg-spoiler" {
                throw MarkupError(description: "Tag \"span\" must have class \"tg-spoiler\"")
            }
            if name == "tg-emoji" && (attributes["emoji-id"] ?? "").isEmpty {
                throw MarkupError(description: "Tag \"tg-emoji\" must have attribute \"emoji-id\"")
            }
            open.append(name)
            i += 1  // the ">"
        }
        if let unclosed = open.last {
            throw MarkupError(description: "Can't find end tag corresponding to start tag \"\(unclosed)\"")
        }
        return visible
    }

    /// Reads attributes up to the tag's closing ">", where it leaves `i`.
    private static func parseAttributes(
        _ text: [UInt8], at i: inout Int, tag: String, tagBegin: Int
    ) throws(MarkupError) -> [String: String] {
        var attributes: [String: String] = [:]
        while true {
            while i < text.count && isSpace(text[i]) { i += 1 }
            guard i < text.count else { throw MarkupError(description: "Unclosed start tag at byte offset \(tagBegin)") }
            if text[i] == ascii(">") { return attributes }
            let nameBegin = i
            while i < text.count && !isSpace(text[i]) && text[i] != ascii("=") && text[i] != ascii(">") { i += 1 }
            let name = lowercased(text[nameBegin..<i])
            guard !name.isEmpty else {
                throw MarkupError(
                    description: "Empty attribute name in the tag \"\(tag)\" at byte offset \(tagBegin)")
            }
            while i < text.count && isSpace(text[i]) { i += 1 }
            guard i < text.count else { throw MarkupError(description: "Unclosed start tag at byte offset \(tagBegin)") }
            guard text[i] == ascii("=") else {
                if tag == "blockquote" && name == "expandable" {
                    attributes[name] = ""
                    continue
                }
                throw MarkupError(
                    description:
                        "Expected equal sign in declaration of an attribute of the tag \"\(tag)\" at byte offset \(tagBegin)"
                )
            }
            i += 1
            while i < text.count && isSpace(text[i]) { i += 1 }
            guard i < text.count else { throw MarkupError(description: "Unclosed start tag at byte offset \(tagBegin)") }
            var value: [UInt8] = []
            if text[i] == ascii("\"") || text[i] == ascii("'") {
                let quote = text[i]
                i += 1
                // Like tdlib, a `&` in a value (a URL's query) may stay bare.
                while i < text.count && text[i] != quote {
                    if text[i] == ascii("&"), let (scalar, next) = decodeEntity(text, at: i),
                        let decoded = Unicode.Scalar(scalar)
                    {
                        value.append(contentsOf: String(decoded).utf8)
                        i = next
                    } else {
                        value.append(text[i])
                        i += 1
                    }
                }
                guard i < text.count else {
                    throw MarkupError(description: "Unclosed start tag at byte offset \(tagBegin)")
                }
                i += 1
            } else {
                let tokenBegin = i
                while i < text.count && (isAlphanumeric(text[i]) || text[i] == ascii(".") || text[i] == ascii("-")) {
                    i += 1
                }
                guard i < text.count else {
                    throw MarkupError(description: "Unclosed start tag at byte offset \(tagBegin)")
                }
                guard isSpace(text[i]) || text[i] == ascii(">") else {
                    throw MarkupError(description: "Unexpected end of name token at byte offset \(tokenBegin)")
                }
                value = Array(lowercased(text[tokenBegin..<i]).utf8)
            }
            attributes[name] = String(decoding: value, as: UTF8.self)
        }
    }

    /// The code point of the entity at `i` (a "&") and the offset after it: &lt; &gt; &amp;
    /// &quot;, &#NN; or &#xHH;, with the semicolon. Nil for anything else.
    static func decodeEntity(_ text: [UInt8], at i: Int) -> (UInt32, Int)? {
        var j = i + 1
        if byte(text, j) == ascii("#") {
            j += 1
            var radix: UInt32 = 10
            if byte(text, j) == ascii("x") || byte(text, j) == ascii("X") {
                radix = 16
                j += 1
            }
            let digitsBegin = j
            var value: UInt32 = 0
            while j < text.count, let digit = digitValue(text[j], radix: radix) {
                // Past the last code point the value is wrong anyway; stop it overflowing.
                value = min(value * radix + digit, 0x11_0000)
                j += 1
            }
            guard j > digitsBegin, byte(text, j) == ascii(";"), value != 0, value <= 0x10_FFFF,
                !(0xD800...0xDFFF).contains(value)
            else { return nil }
            return (value, j + 1)
        }
        let nameBegin = j
        while j < text.count && j - nameBegin <= 4 && isAlphanumeric(text[j]) { j += 1 }
        guard byte(text, j) == ascii(";") else { return nil }
        switch String(decoding: text[nameBegin..<j], as: UTF8.self) {
        case "lt": return (0x3C, j + 1)
        case "gt": return (0x3E, j + 1)
        case "amp": return (0x26, j + 1)
        case "quot": return (0x22, j + 1)
        default: return nil
        }
    }

    // MARK: Markdown (legacy)

    /// tdlib's legacy Markdown: `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````,
    /// `[text](url)`; no nesting, and a backslash escapes the four marks.
    static func parseMarkdown(_ text: [UInt8]) throws(MarkupError) -> VisibleText {
        var visible = VisibleText()
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == ascii("\\"), let next = byte(text, i + 1), isMarkdownMark(next) {
                visible.append(next)
                i += 2
                continue
            }
            guard isMarkdownMark(c) else {
                visible.append(c)
                i += 1
                continue
            }
            let begin = i
            let end = c == ascii("[") ? ascii("]") : c
            var isPre = false
            i += 1
            if c == ascii("`") && byte(text, i) == ascii("`") && byte(text, i + 1) == ascii("`") {
                isPre = true
                i += 2
                // A language name up to the first space or line break, then one line break.
                var languageEnd = i
                while languageEnd < text.count && !isSpace(text[languageEnd]) && text[languageEnd] != ascii("`") {
                    languageEnd += 1
                }
                if languageEnd != i && languageEnd < text.count && text[languageEnd] != ascii("`") { i = languageEnd }
                if let first = byte(text, i), first == ascii("\n") || first == ascii("\r") {
                    if let second = byte(text, i + 1), second == ascii("\n") || second == ascii("\r"), second != first {
                        i += 2
                    } else {
                        i += 1
                    }
                }
            }
            while i < text.count
                && (text[i] != end || (isPre && !(byte(text, i + 1) == ascii("`") && byte(text, i + 2) == ascii("`"))))
            {
                visible.append(text[i])
                i += 1
            }
            guard i < text.count else {
                throw MarkupError(description: "Can't find end of the entity starting at byte offset \(begin)")
            }
            i += isPre ? 3 : 1
            // The URL of `[text](url)` is not shown. tdlib takes a missing ")" as running to the end.
            if c == ascii("[") && byte(text, i) == ascii("(") {
                while i < text.count && text[i] != ascii(")") { i += 1 }
                i += 1
            }
        }
        return visible
    }

    // MARK: Bytes

    private static func isMarkdownMark(_ c: UInt8) -> Bool {
        c == ascii("_") || c == ascii("*") || c == ascii("`") || c == ascii("[")
    }

    private static func ascii(_ s: Unicode.Scalar) -> UInt8 { UInt8(s.value) }

    private static func byte(_ text: [UInt8], _ i: Int) -> UInt8? { i < text.count ? text[i] : nil }

    private static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C
    }

    private static func isAlphanumeric(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
    }

    private static func digitValue(_ c: UInt8, radix: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46 where radix == 16: return UInt32(c - 0x41 + 10)
        case 0x61...0x66 where radix == 16: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    private static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
