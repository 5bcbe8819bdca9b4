import JobsRedis
import Synchronization

/// `/readyz` of a worker or scheduler: Redis answers a PING. At most one ping a second, however
/// often the probe asks.
final class ReadyProbe: Sendable {
    private let driver: RedisQueueDriver
    private let last = Mutex<(at: ContinuousClock.Instant, ready: Bool)?>(nil)

    init(driver: RedisQueueDriver) { self.driver = driver }

    func callAsFunction() async -> Bool {
        let now = ContinuousClock.now
        if let known = last.withLock({ $0 }), now - known.at < .seconds(1) { return known.ready }
        let ready = (try? await driver.ping()) != nil
        last.withLock { $0 = (now, ready) }
        return ready
    }
}
