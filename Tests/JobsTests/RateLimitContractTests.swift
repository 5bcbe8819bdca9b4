import Foundation
import Jobs
import JobsRedis
import TestSupport
import Testing

/// One suite for both rate limiters; they run on real time (Redis reads its own clock).
@Suite("Rate limit drivers")
struct RateLimitContractTests {
    static let kinds = ["memory", "redis"]

    static func limiter(_ kind: String) throws -> (any RateLimitDriver, RedisQueueDriver?) {
        guard kind == "redis" else { return (MemoryRateLimitDriver(), nil) }
        let driver = try TestRedis.driver()
        return (RedisRateLimitDriver(connection: driver.connection, keys: driver.keys), driver)
    }

    @Test("a burst goes through, the next request waits one interval, and subjects do not share", arguments: kinds)
    func burstThenWait(_ kind: String) async throws {
        let (limiter, driver) = try Self.limiter(kind)
        defer { withExtendedLifetime(driver) {} }  // the driver owns the connection
        let rule = try #require(RateRule(perSecond: 10, burst: 3))
        for _ in 0..<3 { #expect(try await limiter.take("u1", rule: rule) == nil) }
        let wait = try #require(try await limiter.take("u1", rule: rule))
        #expect(wait > .zero && wait <= .milliseconds(100))
        // A refused request takes nothing: asking again at once gives about the same wait.
        let again = try #require(try await limiter.take("u1", rule: rule))
        #expect(again <= wait)
        #expect(try await limiter.take("u2", rule: rule) == nil)
        try await Task.sleep(for: wait + .milliseconds(20))
        #expect(try await limiter.take("u1", rule: rule) == nil)
        #expect(try await limiter.take("u1", rule: rule) != nil)
    }

    @Test("a flood of refused requests keeps one key that expires once the allowance is full again")
    func redisKeyIsBounded() async throws {
        let (limiter, driver) = try Self.limiter("redis")
        let redis = try #require(driver).connection
        let rule = try #require(RateRule(perSecond: 100, burst: 5))
        var refused = 0
        for _ in 0..<500 where try await limiter.take("flood", rule: rule) != nil { refused += 1 }
        #expect(refused >= 400)
        let keys = try await redis.send("KEYS", try #require(driver).keys.requestRate("*")).array ?? []
        #expect(keys.count == 1)
        let ttl = try await redis.send("PTTL", try #require(driver).keys.requestRate("flood")).int ?? -3
        #expect(ttl > 0 && ttl <= 51)  // at most burst x interval (50 ms), plus a millisecond
    }

    @Test("rules read RATE/s,BURST and off, and refuse what makes no sense")
    func parse() throws {
        #expect(try RateRule.parse("5/s,20") == RateRule(perSecond: 5, burst: 20))
        #expect(try RateRule.parse(" 0.5/s ") == RateRule(perSecond: 0.5, burst: 1))
        #expect(try RateRule.parse("off") == nil)
        #expect(try RateRule.parse("") == nil)
        for bad in ["5", "5/m,1", "0/s,1", "1e-300/s,1", "0.0009/s,1", "5/s,0", "-1/s,3", "5/s,x", "nan/s,1", "5/s,1,2"] {
            #expect(throws: JobsError.self, "\(bad)") { try RateRule.parse(bad) }
        }
        #expect(RateRule(perSecond: 5, burst: 20)?.description == "5/s,20")
    }
}
