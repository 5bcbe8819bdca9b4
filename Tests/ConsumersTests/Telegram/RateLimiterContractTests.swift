import Foundation
import Jobs
import JobsRedis
import Telegram
import TestSupport
import Testing

/// One contract for both limiters: the Redis one that a fleet shares, and the in-memory one.
@Suite("Rate limiter contract")
struct RateLimiterContractTests {
    static let kinds = ["memory", "redis"]

    static func make(_ kind: String) throws -> any SendRateLimiter {
        if kind == "memory" { return MemoryRateLimiter() }
        let connection = RedisConnection(try RedisConfiguration(url: TestRedis.url()))
        return RedisRateLimiter(connection: connection, keys: RedisKeys(prefix: "test-\(UInt64.random(in: 0 ... .max))"))
    }

    @Test("callers get distinct slots, evenly spaced", arguments: kinds)
    func spacing(kind: String) async throws {
        let limiter = try Self.make(kind)
        let lane = RateLane("global", spacing: .seconds(1))
        // Slots as local instants: the call's start plus its wait, off by at most the call's latency.
        var slots: [ContinuousClock.Instant] = []
        for _ in 0..<4 {
            let start = ContinuousClock.now
            let r = try await limiter.reserve([lane], horizon: .seconds(10))
            #expect(r.granted)
            slots.append(start + r.wait)
        }
        for i in 1..<slots.count {
            let step = slots[i] - slots[i - 1]
            #expect(step > .milliseconds(800) && step < .milliseconds(1200), "step \(i) was \(step)")
        }
    }

    @Test("the slowest lane decides, and every lane is charged", arguments: kinds)
    func lanes(kind: String) async throws {
        let limiter = try Self.make(kind)
        let global = RateLane("global", spacing: .milliseconds(10))
        let chat = RateLane("chat:7", spacing: .seconds(5))
        _ = try await limiter.reserve([global, chat], horizon: .seconds(20))
        let sameChat = try await limiter.reserve([global, chat], horizon: .seconds(20))
        #expect(sameChat.granted && sameChat.wait > .seconds(4))
        // Another chat only waits for the global lane, which the first two reservations advanced.
        let other = try await limiter.reserve([global, RateLane("chat:8", spacing: .seconds(5))], horizon: .seconds(20))
        #expect(other.granted && other.wait > .seconds(4), "the global lane moved past the second slot")
    }

    @Test("a slot past the horizon is refused and nothing is held", arguments: kinds)
    func horizon(kind: String) async throws {
        let limiter = try Self.make(kind)
        let lane = RateLane("chat:1", spacing: .seconds(5))
        #expect(try await limiter.reserve([lane], horizon: .milliseconds(100)).granted)
        let refused = try await limiter.reserve([lane], horizon: .milliseconds(100))
        #expect(!refused.granted)
        #expect(refused.wait > .seconds(4))
        // The refusal took nothing: a caller with a long horizon still gets the very next slot.
        let next = try await limiter.reserve([lane], horizon: .seconds(20))
        #expect(next.granted && next.wait <= .seconds(5))
    }

    @Test("a pause holds every lane and never shortens", arguments: kinds)
    func pause(kind: String) async throws {
        let limiter = try Self.make(kind)
        try await limiter.pause(for: .seconds(10))
        try await limiter.pause(for: .milliseconds(300))
        let r = try await limiter.reserve([RateLane("global", spacing: .milliseconds(1))], horizon: .seconds(20))
        #expect(!r.granted)
        #expect(r.wait > .seconds(8) && r.wait <= .seconds(10))
    }

    @Test("lanes from rates", arguments: [(30, 0.0, 33_333), (30, 0.02, 34_000), (1000, 0.0, 1000)])
    func perPeriod(count: Int, headroom: Double, micros: Int64) {
        let lane = RateLane.perPeriod("x", count: count, period: .seconds(1), headroom: headroom)
        let got = lane.spacing.components.attoseconds / 1_000_000_000_000
        #expect(abs(got - micros) <= 1, "\(lane)")
    }
}
