import Jobs
import Synchronization

/// Redis's clock, read through this machine's: the offset between the two is measured with `TIME`
/// (half the round trip taken off) and added to every local reading. Every process of a fleet that
/// uses it agrees on due times, snoozes, promotion, heartbeats and liveness however far apart the
/// machines' own clocks are (issue 26: a scheduler 2 s ahead promoted every 1 s snooze at once).
///
/// Until the first `sync` succeeds it reads the local clock unchanged. Call `sync` again now and
/// then (``RedisServerClock/run(every:)``): clocks drift, and an NTP step moves the local one.
public final class RedisServerClock: JobClock {
    private let connection: RedisConnection
    private let local: any JobClock
    private let offset = Atomic<Int64>(0)

    /// - Parameter local: the machine's clock; tests pass a skewed one.
    public init(connection: RedisConnection, local: any JobClock = SystemJobClock()) {
        self.connection = connection
        self.local = local
    }

    public func nowMillis() -> Int64 { local.nowMillis() + offset.load(ordering: .relaxed) }

    /// Redis's time minus this machine's, in ms, as last measured.
    public var offsetMillis: Int64 { offset.load(ordering: .relaxed) }

    /// Measures the offset: the best of three `TIME` round trips, so one slow answer does not skew it.
    @discardableResult
    public func sync() async throws -> Int64 {
        var best: (trip: Int64, offset: Int64)?
        for _ in 0..<3 {
            let before = ContinuousClock.now
            let sent = local.nowMillis()
            let reply = try await connection.send("TIME")
            let trip = (ContinuousClock.now - before).milliseconds
            guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap({ Int64($0) }),
                let micros = parts[1].string.flatMap({ Int64($0) })
            else { throw RedisError(code: .protocolError, message: "TIME returned \(reply)") }
            let server = seconds * 1000 + micros / 1000
            let measured = server - (sent + trip / 2)
            if best == nil || trip < best!.trip { best = (trip, measured) }
        }
        offset.store(best!.offset, ordering: .relaxed)
        return best!.offset
    }

    /// Syncs every `interval` until cancelled; a failed sync keeps the last offset.
    public func run(every interval: Duration = .seconds(30)) async {
        while !Task.isCancelled {
            _ = try? await sync()
            try? await Task.sleep(for: interval)
        }
    }
}
