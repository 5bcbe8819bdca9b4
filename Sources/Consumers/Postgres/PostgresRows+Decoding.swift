extension PostgresRows {
    /// The value at `row`, `column` as an integer; a missing or non-integer value is a decoding error.
    public func int(_ row: Int, _ column: String) throws -> Int64 {
        guard let text = self[row, column], let value = Int64(text) else {
            throw PostgresError(code: .decoding, message: "column \(column) of row \(row) is not an integer", sqlState: nil)
        }
        return value
    }

    public func optionalInt(_ row: Int, _ column: String) -> Int64? { self[row, column].flatMap { Int64($0) } }

    public func string(_ row: Int, _ column: String) throws -> String {
        guard let text = self[row, column] else {
            throw PostgresError(code: .decoding, message: "column \(column) of row \(row) is null", sqlState: nil)
        }
        return text
    }

    /// PostgreSQL's text form of a boolean.
    public func bool(_ row: Int, _ column: String) -> Bool { self[row, column] == "t" }

    public var isEmpty: Bool { rows.isEmpty }
    public var count: Int { rows.count }
}
