import Jobs
import JobsRedis
import MetricsExport

/// `/readyz` of a worker or scheduler: Redis answers a PING, asked at most once a second,
/// one ping at a time.
struct ReadyProbe: Sendable {
    let driver: RedisQueueDriver
    let readiness = Readiness()

    func callAsFunction() async -> Bool {
        let driver = driver
        return await readiness.check(at: SystemJobClock().nowMillis()) { (try? await driver.ping()) != nil }
    }
}
