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

/// Classes sharing one lane: priority first, the weighted ones by weight, none starved.
@Suite("Rate limiter classes")
struct RateLimiterClassTests {
    static let lane = RateLane("global", spacing: .milliseconds(10))

    static func share(_ name: String, ahead: Duration = .seconds(60)) -> RateShare {
        RateShare(lane: "global", className: name, weights: ["results": 2, "bulk": 1], priorityShare: 0.8, ahead: ahead)
    }

    /// The slot a reservation got, as a distance from `start`.
    static func slot(_ limiter: any SendRateLimiter, _ name: String, start: ContinuousClock.Instant, ahead: Duration = .seconds(60))
        async throws -> Duration?
    {
        let before = ContinuousClock.now
        let r = try await limiter.reserve([lane], horizon: .seconds(60), share: share(name, ahead: ahead))
        return r.granted ? before - start + r.wait : nil
    }

    @Test("weighted classes with work share the lane by weight", arguments: RateLimiterContractTests.kinds)
    func weights(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        var results = 0
        var bulk = 0
        // Both ask in turn, as two busy backlogs would; a class ahead of its share is refused.
        for _ in 0..<60 {
            if try await Self.slot(limiter, "results", start: start) != nil { results += 1 }
            if try await Self.slot(limiter, "bulk", start: start) != nil { bulk += 1 }
        }
        let resultsShare = Double(results) / Double(results + bulk)
        #expect(abs(resultsShare - 2.0 / 3) < 0.05, "results \(results), bulk \(bulk)")
    }

    @Test(
        "a class coming back after a pause starts level: the class that kept working is not starved",
        arguments: RateLimiterContractTests.kinds)
    func comesBackLevel(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        // Results alone for a while, so its virtual time runs ahead of bulk's, which never asked.
        for _ in 0..<30 { _ = try await Self.slot(limiter, "results", start: start) }
        var results = 0
        for _ in 0..<30 {
            if try await Self.slot(limiter, "results", start: start) != nil { results += 1 }
            _ = try await Self.slot(limiter, "bulk", start: start)
        }
        // 2 to 1 from the start, not bulk alone until it has caught up 15 turns.
        #expect(results >= 16, "results got \(results) of the 30 rounds after bulk came back")
    }

    @Test(
        "a class refused on its return after the other ran alone still starts level: neither is locked out (issue 26, finding 1)",
        arguments: RateLimiterContractTests.kinds)
    func refusedOnReturn(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        func share(_ name: String, ahead: Duration) -> RateShare {
            RateShare(
                lane: "global", className: name, weights: ["results": 2, "bulk": 1], priorityShare: 0.8, ahead: ahead,
                activeWindow: .milliseconds(300))
        }
        func ask(_ name: String, ahead: Duration = .seconds(60)) async throws -> RateReservation {
            try await limiter.reserve([Self.lane], horizon: .seconds(60), share: share(name, ahead: ahead))
        }
        // Results asks once, then goes quiet past its active window.
        _ = try await ask("results")
        try await Task.sleep(for: .milliseconds(400))
        // Bulk alone, keeping the lane booked 100 ms ahead: its virtual time runs far ahead.
        let alone = ContinuousClock.now
        var bulkAlone = 0
        while ContinuousClock.now - alone < .milliseconds(250) {
            if try await ask("bulk", ahead: .milliseconds(100)).granted {
                bulkAlone += 1
            } else {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(bulkAlone >= 20, "bulk alone took \(bulkAlone) slots")
        // Results comes back and its first request is refused: the lane is booked beyond its `ahead`.
        #expect(try await !ask("results", ahead: .milliseconds(20)).granted)
        var counts: [String: Int] = [:]
        var longest = Duration.zero
        for _ in 0..<60 {
            for name in ["results", "bulk"] {
                let r = try await ask(name)
                if r.granted { counts[name, default: 0] += 1 } else { longest = max(longest, r.wait) }
            }
        }
        let results = Double(counts["results", default: 0])
        let bulk = Double(counts["bulk", default: 0])
        #expect(abs(results / max(1, results + bulk) - 2.0 / 3) < 0.1, "\(counts) after bulk ran alone")
        #expect(longest <= .seconds(1), "a refusal asked to wait \(longest)")
    }

    @Test("a class alone has the whole lane", arguments: RateLimiterContractTests.kinds)
    func alone(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        var slots: [Duration] = []
        for _ in 0..<10 { slots.append(try #require(try await Self.slot(limiter, "bulk", start: start))) }
        let span = slots[9] - slots[0]
        #expect(span > .milliseconds(80) && span < .milliseconds(120), "9 steps of 10 ms took \(span)")
    }

    @Test(
        "a weighted class holds no slot beyond `ahead`; a priority message waits at most that long",
        arguments: RateLimiterContractTests.kinds)
    func ahead(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        var granted = 0
        // The bulk class fills the calendar 100 ms ahead, then is refused.
        while try await Self.slot(limiter, "bulk", start: start, ahead: .milliseconds(100)) != nil { granted += 1 }
        #expect(granted >= 9 && granted <= 12, "granted \(granted) slots 10 ms apart within 100 ms")
        let interactive = try #require(try await Self.slot(limiter, "interactive", start: start))
        #expect(interactive < .milliseconds(200), "the interactive slot came \(interactive) after the start")
    }

    @Test(
        "with the same `ahead` as the weighted classes, a priority message still gets a slot when they hold the lane that far",
        arguments: RateLimiterContractTests.kinds)
    func priorityBehindAFullCalendar(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        // Found by `thepred bench lanes`: the weighted classes kept the lane 500 ms ahead, a priority
        // message's slot was always just beyond its own 500 ms, and it was refused again and again.
        while try await Self.slot(limiter, "bulk", start: start, ahead: .milliseconds(100)) != nil {}
        let interactive = try #require(try await Self.slot(limiter, "interactive", start: start, ahead: .milliseconds(100)))
        #expect(interactive < .milliseconds(200), "the interactive slot came \(interactive) after the start")
    }

    @Test(
        "a priority backlog that keeps the lane booked ahead still leaves the weighted classes their share",
        arguments: RateLimiterContractTests.kinds)
    func priorityBacklogLeavesShare(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        var counts: [String: Int] = [:]
        // Found in review: priority booked the lane up to 2 x ahead, the weighted classes were then
        // refused as if held up by their own lanes, stopped counting as active, and got nothing.
        // Each round: priority asks three times (a backlog), then both weighted classes once.
        for _ in 0..<200 {
            for name in ["interactive", "interactive", "interactive", "results", "bulk"]
            where try await Self.slot(limiter, name, start: start, ahead: .milliseconds(100)) != nil {
                counts[name, default: 0] += 1
            }
        }
        let weighted = counts["results", default: 0] + counts["bulk", default: 0]
        let total = weighted + counts["interactive", default: 0]
        #expect(total > 0 && Double(weighted) / Double(total) >= 0.15, "\(counts)")
    }

    @Test("the priority class takes at most its share while a weighted class has work", arguments: RateLimiterContractTests.kinds)
    func priorityShare(kind: String) async throws {
        let limiter = try RateLimiterContractTests.make(kind)
        let start = ContinuousClock.now
        _ = try await Self.slot(limiter, "bulk", start: start)
        var slots: [Duration] = []
        for _ in 0..<11 { slots.append(try #require(try await Self.slot(limiter, "interactive", start: start))) }
        // Paced at 10 ms / 0.8 = 12.5 ms, not the lane's 10 ms: 10 steps take 125 ms.
        let span = slots[10] - slots[0]
        #expect(span > .milliseconds(115) && span < .milliseconds(145), "10 steps took \(span)")
    }
}
