import Foundation
@testable import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import JobsRedis
import TestSupport
import Testing
import ThePredKinds
import ThePredRedis

/// The front on the real Redis driver and board.
@Suite("HTTP front on Redis")
struct RedisFrontTests {
    func fixture() async throws -> FrontFixture {
        let driver = try TestRedis.driver()
        // As `thepred front` does at start, so job lookups know every queue.
        for queue in try AppKinds.registry().queues { try await driver.prepare(queue: queue) }
        return FrontFixture(driver: driver, board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys))
    }

    @Test("a bet lands in the bets stream with its owner, and a repeat with the same key is the same job")
    func bet() async throws {
        let f = try await fixture()
        try await f.test { client in
            var headers = FrontFixture.user(77)
            headers[HTTPField.Name("Idempotency-Key")!] = "k1"
            let body = FrontFixture.body(#"{"market_id":4,"outcome":"NO","stake":30}"#)
            let a = try await client.execute(uri: "/v1/bets", method: .post, headers: headers, body: body)
            let b = try await client.execute(uri: "/v1/bets", method: .post, headers: headers, body: body)
            #expect(a.status == .accepted)
            let id = try #require(a.json["job_id"] as? String)
            #expect(b.json["job_id"] as? String == id)
            let mine = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: FrontFixture.user(77))
            #expect(mine.json["status"] as? String == "queued")
            #expect(mine.json["kind"] as? String == "bets.place")
            #expect(try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: FrontFixture.user(78)).status == .notFound)
            #expect(try await f.driver.stats(queue: BetsPlace.kind.queue).ready == 1)
        }
    }

    @Test("broadcasts published to the Redis board are listed and shown; an older version never replaces a newer")
    func board() async throws {
        let f = try await fixture()
        let new = broadcast(5, .completed, total: 3, sent: 3)
        let old = broadcast(5, .processing, total: 3, sent: 1)
        #expect(try await f.board.publish(new, requestID: "req-5"))
        #expect(try await f.board.publish(old, requestID: nil) == false)
        try await f.test { client in
            let show = try await client.execute(uri: "/v1/admin/broadcasts/req-5", method: .get, headers: FrontFixture.admin)
            #expect(show.json["status"] as? String == "COMPLETED")
            let list = try await client.execute(uri: "/v1/admin/broadcasts", method: .get, headers: FrontFixture.admin)
            #expect((list.json["broadcasts"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("Redis down: 503 with Retry-After within a bounded time, and no hang")
    func redisDown() async throws {
        var redis = try RedisConfiguration(url: "redis://127.0.0.1:1/0")
        redis.connectTimeout = .seconds(1)
        var config = RedisQueueDriver.Configuration(redis: redis)
        config.commandTimeout = .seconds(2)
        let driver = RedisQueueDriver(configuration: config)
        var f = FrontFixture(driver: driver, board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys))
        f.ping = { try await driver.ping() }
        try await f.test { client in
            for uri in ["/v1/bets", "/readyz"] {
                let started = ContinuousClock.now
                let r =
                    uri == "/readyz"
                    ? try await client.execute(uri: uri, method: .get)
                    : try await client.execute(
                        uri: uri, method: .post, headers: FrontFixture.user(),
                        body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":1}"#))
                #expect(r.status == .serviceUnavailable, "\(uri): \(r.text)")
                #expect(r.headers[.retryAfter] == "1")
                #expect(r.errorCode == "unavailable")
                #expect(ContinuousClock.now - started < .seconds(3))
            }
        }
    }

    @Test("Redis hung (connections accepted, no replies): concurrent requests all get 503 within about one reply timeout")
    func redisHung() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        var redis = try RedisConfiguration(url: "redis://127.0.0.1:\(listener.port)/0")
        redis.connectTimeout = .milliseconds(300)
        redis.maxReconnectBackoff = .milliseconds(500)
        var config = RedisQueueDriver.Configuration(redis: redis)
        config.commandTimeout = .milliseconds(500)
        let driver = RedisQueueDriver(configuration: config)
        let f = FrontFixture(driver: driver, board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys))
        try await f.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(60 * i))
                        let started = ContinuousClock.now
                        let r = try await client.execute(
                            uri: "/v1/bets", method: .post, headers: FrontFixture.user(),
                            body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":1}"#))
                        #expect(r.status == .serviceUnavailable, "\(r.text)")
                        #expect(r.headers[.retryAfter] == "1")
                        #expect(ContinuousClock.now - started < .milliseconds(900))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("Redis replies that mean 'not now' are 503; other Redis errors are 500")
    func temporaryReplies() {
        for message in [
            "LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script",
            "READONLY You can't write against a read only replica.", "MASTERDOWN Link with MASTER is down",
        ] {
            let api = ErrorMiddleware<FrontRequestContext>.apiError(RedisError.server(message))
            #expect(api.status == .serviceUnavailable, "\(message)")
            #expect(api.retryAfter == 1)
        }
        #expect(ErrorMiddleware<FrontRequestContext>.apiError(RedisError.server("ERR unknown command")).status == .internalServerError)
    }
}
