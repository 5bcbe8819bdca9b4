import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// Who waits for the port.
struct ListeningState {
    var port: Int?
    var failure: FakeTelegramServer.NotListening?
    var nextWaiter: UInt64 = 0
    var waiters: [UInt64: CheckedContinuation<Int, any Error>] = [:]
}
