import Jobs

/// Encodes rows in the text format of `COPY … FROM STDIN` and hands them on in chunks, so a
/// million rows never sit in memory at once.
///
/// Fields of a row are separated by a tab and rows end with a newline. In a field, backslash, tab,
/// newline and carriage return are escaped (`\\`, `\t`, `\n`, `\r`), and NULL is `\N`, so any
/// string round-trips, including one that reads `\N`. Add the fields of a row in the order of the
/// COPY's column list, then call ``endRow()``.
///
/// ```swift
/// try tx.copy("COPY users (id, username) FROM STDIN") { rows in
///     rows.add(Int64(1)); rows.add("ann\tlee"); try rows.endRow()
/// }
/// ```
public struct PostgresCopyWriter {
    /// Bytes buffered before a chunk is sent. Chunks need not match rows; COPY joins them.
    public static let defaultChunkSize = 256 * 1024

    private var buffer: [UInt8] = []
    private var fieldsInRow = 0
    private let chunkSize: Int
    private let send: (UnsafeRawBufferPointer) throws -> Void

    /// Rows ended so far.
    public private(set) var rows = 0

    /// - Parameters:
    ///   - chunkSize: bytes to gather before `send` gets them.
    ///   - send: receives each full chunk, and the rest at ``flush()``.
    public init(chunkSize: Int = PostgresCopyWriter.defaultChunkSize, send: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.chunkSize = max(1, chunkSize)
        self.send = send
        // A little headroom so the row that crosses the limit does not reallocate.
        buffer.reserveCapacity(self.chunkSize + 4096)
    }

    /// A text field, escaped; nil is NULL.
    public mutating func add(_ value: String?) {
        separate()
        guard var text = value else { return appendNull() }
        text.withUTF8 { utf8 in
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "\t"): buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "t"))
                case UInt8(ascii: "\n"): buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): buffer.append(UInt8(ascii: "\\")); buffer.append(UInt8(ascii: "r"))
                default: buffer.append(byte)
                }
            }
        }
    }

    /// An integer field, written without going through String.
    public mutating func add(_ value: Int64) {
        separate()
        appendDigits(value)
    }

    public mutating func add(_ value: Int) { add(Int64(value)) }

    public mutating func add(_ value: Bool) {
        separate()
        buffer.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    public mutating func add(_ value: PostgresValue) {
        switch value {
        case .text(let text): add(text)
        case .null: addNull()
        }
    }

    public mutating func addNull() {
        separate()
        appendNull()
    }

    /// A `timestamptz` field in UTC, `YYYY-MM-DD HH:MM:SS+00`, for years 1 through 9999.
    public mutating func addTimestamp(epochSeconds: Int64) {
        separate()
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = epochSeconds - days * 86_400
        let (year, month, day) = CivilDate.date(fromDays: days)
        precondition((1...9999).contains(year), "timestamp \(epochSeconds) is outside years 1...9999")
        appendPadded(year, width: 4); buffer.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2); buffer.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2); buffer.append(UInt8(ascii: " "))
        appendPadded(secondOfDay / 3600, width: 2); buffer.append(UInt8(ascii: ":"))
        appendPadded(secondOfDay / 60 % 60, width: 2); buffer.append(UInt8(ascii: ":"))
        appendPadded(secondOfDay % 60, width: 2)
        buffer.append(UInt8(ascii: "+")); buffer.append(UInt8(ascii: "0")); buffer.append(UInt8(ascii: "0"))
    }

    /// Ends the current row; sends a chunk once enough bytes have gathered.
    public mutating func endRow() throws {
        buffer.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
        rows += 1
        if buffer.count >= chunkSize { try flush() }
    }

    /// Sends whatever is buffered. `copy` calls it after the last row.
    public mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try send($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func separate() {
        if fieldsInRow > 0 { buffer.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }

    private mutating func appendNull() {
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(UInt8(ascii: "N"))
    }

    private mutating func appendDigits(_ value: Int64) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        // Magnitude as UInt64, so Int64.min does not overflow.
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[i]) }
        }
    }

    private mutating func appendPadded(_ value: Int64, width: Int) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
