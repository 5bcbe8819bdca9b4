import JobsRedis
import Logging
import ServiceLifecycle

/// Keeps a process's ``RedisServerClock`` in step with Redis's: re-measured every 30 s, and the
/// offset logged when it moves by more than 100 ms (a machine whose clock is off, or an NTP step).
struct ClockSyncService: Service {
    let clock: RedisServerClock
    let logger: Logger
    var interval: Duration = .seconds(30)

    func run() async throws {
        let (clock, logger, interval) = (clock, logger, interval)
        logger.info("following Redis's clock", metadata: ["offset_ms": "\(clock.offsetMillis)"])
        // A shutdown ends the wait at once: the group waits for every service to return.
        try? await cancelWhenGracefulShutdown {
            var last = clock.offsetMillis
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                guard let now = try? await clock.sync() else { continue }
                if abs(now - last) > 100 {
                    logger.warning("this machine's clock moved against Redis's", metadata: ["offset_ms": "\(now)"])
                }
                last = now
            }
        }
    }
}
