import Jobs
import Synchronization

/// Redis's clock, carried forward by this machine's monotonic clock: each sync reads Redis's `TIME`
/// (half the round trip taken off) and notes the monotonic instant; a reading is that time plus
/// the monotonic time since. Every process of a fleet that uses it agrees on due times, snoozes,
/// promotion, heartbeats and liveness however far apart the machines' wall clocks are (issue 26: a
/// scheduler 2 s ahead promoted every 1 s snooze at once), and a step of the wall clock (NTP)
/// between two syncs changes nothing.
///
/// Until the first `sync` succeeds it reads the local wall clock. Sync again now and then
/// (every 30 s in the worker and scheduler): the two clocks drift apart by a few ppm.
public final class RedisServerClock: JobClock {
    private struct Anchor {
        let serverMillis: Int64
        let at: ContinuousClock.Instant
        let offsetMillis: Int64
    }

    private let connection: RedisConnection
    private let local: any JobClock
    private let anchor = Mutex<Anchor?>(nil)

    /// - Parameter local: the machine's wall clock; tests pass a skewed one.
    public init(connection: RedisConnection, local: any JobClock = SystemJobClock()) {
        self.connection = connection
        self.local = local
    }

    public func nowMillis() -> Int64 {
        guard let a = anchor.withLock({ $0 }) else { return local.nowMillis() }
        return a.serverMillis + (ContinuousClock.now - a.at).milliseconds
    }

    /// Redis's time minus this machine's wall clock, in ms, at the last sync.
    public var offsetMillis: Int64 { anchor.withLock { $0?.offsetMillis ?? 0 } }

    /// Reads Redis's time: the best of three `TIME` round trips, so one slow answer does not skew
    /// it. Returns the offset to this machine's wall clock.
    @discardableResult
    public func sync() async throws -> Int64 {
        var best: (trip: Duration, anchor: Anchor)?
        for _ in 0..<3 {
            let before = ContinuousClock.now
            let wall = local.nowMillis()
            let reply = try await connection.send("TIME")
            let after = ContinuousClock.now
            guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap({ Int64($0) }),
                let micros = parts[1].string.flatMap({ Int64($0) })
            else { throw RedisError(code: .protocolError, message: "TIME returned \(reply)") }
            let trip = after - before
            let server = seconds * 1000 + micros / 1000
            // Redis read its clock about halfway through the round trip.
            let mid = before + trip / 2
            let candidate = Anchor(serverMillis: server, at: mid, offsetMillis: server - (wall + trip.milliseconds / 2))
            if best == nil || trip < best!.trip { best = (trip, candidate) }
        }
        anchor.withLock { $0 = best!.anchor }
        return best!.anchor.offsetMillis
    }
}
