import Jobs
import JobsRedis
import MetricsExport

/// `/readyz` of a worker or scheduler: Redis answers a PING, asked at most once a second.
struct ReadyProbe: Sendable {
    let driver: RedisQueueDriver
    let readiness = Readiness()

    func callAsFunction() async -> Bool {
        let now = SystemJobClock().nowMillis()
        if let known = readiness.known(at: now) { return known }
        let ready = (try? await driver.ping()) != nil
        readiness.record(ready, at: now)
        return ready
    }
}
