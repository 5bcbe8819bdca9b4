import Foundation
import Jobs
import Postgres
import Synchronization
import ThePredKinds

/// Messages whose final outcome (SENT: Telegram accepted it; AMBIGUOUS: it may have arrived)
/// could not be written, by delivery row, in this process: the only record that they may have
/// gone out. A later run of the job, or its `onDead` hook, writes that outcome from here instead of
/// sending again or logging a failure, and forgets it only once the write landed.
enum AcceptedUnlogged {
    struct Outcome: Sendable, Equatable {
        let status: DeliveryLog.Status
        let messageID: Int64?
    }

    private static let rows = Mutex<[String: Outcome]>([:])

    static func remember(_ row: String, status: DeliveryLog.Status, messageID: Int64?) {
        rows.withLock { $0[row] = Outcome(status: status, messageID: messageID) }
    }

    static func peek(_ row: String) -> Outcome? { rows.withLock { $0[row] } }

    static func forget(_ row: String) { _ = rows.withLock { $0.removeValue(forKey: row) } }
}
