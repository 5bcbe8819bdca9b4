import Foundation
import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import JobsRedis
import TestSupport
import Testing
import ThePredKinds
import ThePredRedis

@Suite("HTTP front: rate limits")
struct RateLimitTests {
    static let bet = #"{"market_id":1,"outcome":"YES","stake":2}"#

    func fixture(_ change: @escaping @Sendable (inout FrontRateLimits) -> Void = { _ in }) -> FrontFixture {
        var f = FrontFixture()
        f.configure = { c in
            var limits = FrontRateLimits()
            change(&limits)
            c.rateLimits = limits
        }
        return f
    }

    @Test("a user past the write limit gets 429 with Retry-After; another user is served; the allowance refills")
    func perUser() async throws {
        let f = fixture { $0.userWrites = RateRule(perSecond: 2, burst: 3) }
        try await f.test { client async throws in
            for _ in 0..<3 {
                let ok = try await client.execute(
                    uri: "/v1/bets", method: .post, headers: FrontFixture.user(1), body: FrontFixture.body(Self.bet))
                #expect(ok.status == .accepted)
            }
            let refused = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(1), body: FrontFixture.body(Self.bet))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            #expect(refused.headers[.retryAfter] == "1")
            #expect((refused.error["message"] as? String)?.contains("2 a second, bursts of 3") == true)
            // A body that would be refused anyway is refused by the limit first, and reads are their own class.
            #expect(
                try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(1), body: FrontFixture.body("{")).status
                    == .tooManyRequests)
            #expect(try await client.execute(uri: "/v1/jobs/nope", method: .get, headers: FrontFixture.user(1)).status == .notFound)
            #expect(
                try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(2), body: FrontFixture.body(Self.bet))
                    .status == .accepted)
            f.clock.advance(by: .milliseconds(500))
            #expect(
                try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(1), body: FrontFixture.body(Self.bet))
                    .status == .accepted)
            #expect(
                try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(1), body: FrontFixture.body(Self.bet))
                    .status == .tooManyRequests)
        }
        #expect(try await f.driver.waitingCount() == 5)
    }

    @Test("requests without valid credentials are limited per client address; probes are not limited")
    func perAddress() async throws {
        let f = fixture {
            $0.address = RateRule(perSecond: 1, burst: 2)
            $0.clientAddressHeader = "X-Forwarded-For"
        }
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        try await f.test { client async throws in
            let from: (String) -> HTTPFields = { [forwarded: "10.0.0.9, \($0)", .authorization: "tma bad"] }
            for _ in 0..<2 {
                #expect(try await client.execute(uri: "/v1/bets", method: .post, headers: from("192.0.2.1")).status == .unauthorized)
            }
            let third = try await client.execute(uri: "/v1/bets", method: .post, headers: from("192.0.2.1"))
            #expect(third.status == .tooManyRequests)
            #expect((third.error["message"] as? String)?.contains("without valid credentials") == true)
            // The last entry is the address the proxy saw; the client wrote the first one itself.
            #expect(try await client.execute(uri: "/v1/bets", method: .post, headers: from("192.0.2.2")).status == .unauthorized)
            for _ in 0..<5 {
                #expect(try await client.execute(uri: "/healthz", method: .get, headers: from("192.0.2.1")).status == .ok)
            }
            // A valid user from the same address has a limit of its own.
            var user = FrontFixture.user(5)
            user[forwarded] = "192.0.2.1"
            #expect(
                try await client.execute(uri: "/v1/bets", method: .post, headers: user, body: FrontFixture.body(Self.bet)).status
                    == .accepted)
        }
    }

    @Test("admins share a limit of their own")
    func admin() async throws {
        let f = fixture { $0.admin = RateRule(perSecond: 1, burst: 2) }
        try await f.test { client async throws in
            for _ in 0..<2 {
                #expect(try await client.execute(uri: "/v1/admin/queues", method: .get, headers: FrontFixture.admin).status == .ok)
            }
            #expect(try await client.execute(uri: "/v1/admin/queues", method: .get, headers: FrontFixture.admin).status == .tooManyRequests)
            #expect(
                try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(1), body: FrontFixture.body(Self.bet))
                    .status == .accepted)
        }
    }

    @Test("one user floods 10,000 bets on Redis: 429s after the burst, other users served, Redis does not grow with the flood")
    func floodOnRedis() async throws {
        let driver = try TestRedis.driver()
        for queue in try AppKinds.registry().queues { try await driver.prepare(queue: queue) }
        var f = FrontFixture(driver: driver, board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys))
        f.rateLimiter = RedisRateLimitDriver(connection: driver.connection, keys: driver.keys)
        f.configure = { $0.rateLimits = FrontRateLimits() }  // the defaults: 5/s, bursts of 20
        let memory: @Sendable () async throws -> Int = {
            let info = try await driver.connection.send("INFO", "memory").string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") } ?? ""
            return Int(line.dropFirst("used_memory:".count)) ?? -1
        }
        let before = try await memory()
        let started = ContinuousClock.now
        let (accepted, limited, others) = try await f.test { client async throws in
            var accepted = 0
            var limited = 0
            var others = 0
            // An invalid bet (a market that does not exist) is only refused by the worker, later.
            let flood = FrontFixture.body(#"{"market_id":999999,"outcome":"YES","stake":1}"#)
            for i in 0..<10_000 {
                let r = try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(666), body: flood)
                if r.status == .accepted {
                    accepted += 1
                } else if r.status == .tooManyRequests, r.headers[.retryAfter] != nil {
                    limited += 1
                }
                if i % 1000 == 0 {
                    let valid = try await client.execute(
                        uri: "/v1/bets", method: .post, headers: FrontFixture.user(Int64(1000 + i)), body: FrontFixture.body(Self.bet))
                    if valid.status == .accepted { others += 1 }
                }
            }
            return (accepted, limited, others)
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds) + 1
        #expect(others == 10)
        #expect(limited == 10_000 - accepted)
        #expect(Double(accepted) <= 20 + 5 * seconds)
        #expect(try await driver.stats(queue: BetsPlace.kind.queue).ready == accepted + others)
        let keys = try await driver.connection.send("KEYS", driver.keys.requestRate("*")).array ?? []
        #expect(keys.count <= 11)  // the flooder and the ten others, each expiring within seconds
        let grown = try await memory() - before
        #expect(grown < 512 * 1024, "Redis grew by \(grown) bytes for \(accepted + others) jobs")
    }
}
