import CLibpq
import Jobs
import Foundation

/// Rows of one statement, as text values copied out of libpq.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows the statement changed, for INSERT, UPDATE and DELETE.
    public let affected: Int

    /// Nil for a missing column or row: a statement that matched nothing must not trap a worker.
    public subscript(row: Int, column: String) -> String? {
        guard rows.indices.contains(row), let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}
