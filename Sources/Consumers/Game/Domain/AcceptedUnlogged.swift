import Foundation
import Jobs
import Postgres
import Synchronization
import ThePredKinds

/// Messages Telegram accepted whose SENT write failed, by delivery row, in this process: the
/// only record that they went out. A later run of the job, or its `onDead` hook, writes SENT
/// from here instead of sending again or logging a failure.
enum AcceptedUnlogged {
    private static let rows = Mutex<[String: Int64]>([:])

    static func remember(_ row: String, messageID: Int64?) { rows.withLock { $0[row] = messageID ?? 0 } }

    /// The message id (nil when none is remembered; 0 when Telegram gave none).
    static func peek(_ row: String) -> Int64? { rows.withLock { $0[row] } }

    static func take(_ row: String) -> Int64? { rows.withLock { $0.removeValue(forKey: row) } }
}
