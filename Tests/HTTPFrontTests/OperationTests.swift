import Foundation
import HTTPFront
import Hummingbird
import HummingbirdTesting
import Jobs
import JobsRedis
import Synchronization
import Testing

@Suite("HTTP front: operations and the OpenAPI document")
struct OperationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("healthz, readyz and openapi.yaml answer without credentials; /metrics is on its own listener, not the API's")
    func operations() async throws {
        let f = FrontFixture()
        let metricsApp = Application(router: HTTPFront.metricsRouter(dependencies: f.dependencies))
        try await f.test { client in
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            _ = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(),
                body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":2}"#))
            _ = try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.user(), body: FrontFixture.body("{"))
            let metrics = try await metricsApp.test(.router) { try await $0.execute(uri: "/metrics", method: .get) }
            #expect(metrics.status == .ok)
            #expect(metrics.text.contains(#"thepred_queue_jobs{queue="bets",state="ready"} 1"#))
            #expect(metrics.text.contains(#"thepred_queue_latency_seconds{queue="bets"}"#))
            #expect(metrics.text.contains(#"thepred_front_jobs_enqueued_total{kind="bets.place",replay="false"} 1"#))
            #expect(metrics.text.contains(#"thepred_front_requests_rejected_total{code="invalid_json"} 1"#))
            // Every answer is counted and timed under its route's pattern, refusals too.
            #expect(metrics.text.contains(#"thepred_front_requests_total{route="/v1/bets",method="POST",status="202"} 1"#))
            #expect(metrics.text.contains(#"thepred_front_requests_total{route="/v1/bets",method="POST",status="400"} 1"#))
            #expect(metrics.text.contains(#"thepred_front_request_duration_seconds_count{route="/healthz",method="GET",status="200"} 1"#))
            let doc = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(doc.status == .ok)
            #expect(doc.text.hasPrefix("openapi: 3.1.0"))
        }
    }

    @Test("readyz is 503 with Retry-After when the queue cannot be reached")
    func notReady() async throws {
        var f = FrontFixture()
        f.ping = { throw RedisError.connection("refused") }
        try await f.test { client in
            let r = try await client.execute(uri: "/readyz", method: .get)
            #expect(r.status == .serviceUnavailable)
            #expect(r.headers[.retryAfter] == "1")
            #expect(r.errorCode == "unavailable")
        }
    }

    @Test("readyz pings Redis at most once a second however often it is asked")
    func readinessIsCached() async throws {
        var f = FrontFixture()
        let pings = Mutex(0)
        f.ping = { pings.withLock { $0 += 1 } }
        let clock = f.clock
        try await f.test { client async throws in
            for _ in 0..<100 { #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok) }
            #expect(pings.withLock { $0 } == 1)
            clock.advance(by: .seconds(1))
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            #expect(pings.withLock { $0 } == 2)
        }
    }

    /// Issue 26, finding 9: each request that found no answer younger than a second sent a ping of
    /// its own, so while Redis was slow to answer, every probe meanwhile queued another one.
    @Test("readyz sends one ping at a time: requests during a slow one wait for its answer")
    func readinessSingleFlight() async throws {
        var f = FrontFixture()
        let pings = Mutex(0)
        f.ping = {
            pings.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(300))
        }
        try await f.test { client async throws in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.execute(uri: "/readyz", method: .get).status } }
                for try await status in group { #expect(status == .ok) }
            }
            #expect(pings.withLock { $0 } == 1)
        }
    }

    /// `METHOD /path` of every operation in the document, read from its two-level layout.
    static func documentedRoutes(_ yaml: String) -> Set<String> {
        var routes: Set<String> = []
        var path: String?
        var inPaths = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, first != " " { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"), let path {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(method) { routes.insert("\(method.uppercased()) \(path)") }
            }
        }
        return routes
    }

    @Test("schemas/openapi.yaml lists exactly the app's routes, and is the document the front serves")
    func documentMatchesRouter() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("schemas/openapi.yaml"), encoding: .utf8)
        #expect(Array(file.utf8) == HTTPFront.openAPIDocument)
        let documented = Self.documentedRoutes(file)
        let served = Set(FrontFixture().router.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented.count >= 16)
        #expect(served.subtracting(documented).isEmpty, "routes missing from the document: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented routes the app lacks: \(documented.subtracting(served).sorted())")
    }
}
