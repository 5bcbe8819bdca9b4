/// What is left of a text once Telegram has parsed its markup.
struct VisibleText: Equatable {
    /// Length in UTF-16 code units, the unit of Telegram's 4096 and 1024 limits.
    var utf16Length = 0
    /// Only spaces, tabs and line breaks (or nothing): Telegram calls such a message empty.
    var isBlank = true
    /// The text itself, UTF-8.
    var bytes: [UInt8] = []
}

extension VisibleText {
    /// Counts one byte of UTF-8 the way tdlib does: a lead byte is one UTF-16 unit, two for a
    /// four-byte sequence (a surrogate pair).
    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
        if byte & 0xC0 != 0x80 { utf16Length += byte >= 0xF0 ? 2 : 1 }
        if !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) { isBlank = false }
    }

    mutating func append(scalar: UInt32) {
        if let decoded = Unicode.Scalar(scalar) { bytes.append(contentsOf: String(decoded).utf8) }
        utf16Length += scalar > 0xFFFF ? 2 : 1
        if !(scalar == 0x20 || scalar == 0x09 || scalar == 0x0A || scalar == 0x0D) { isBlank = false }
    }
}
