import Foundation
import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import Testing

/// A Mini App on another origin, as a browser calls the front: a preflight, then the request.
@Suite("HTTP front: CORS")
struct CORSTests {
    static let app = "https://app.example.com"
    static let acrm = HTTPField.Name("Access-Control-Request-Method")!
    static let acrh = HTTPField.Name("Access-Control-Request-Headers")!

    func fixture(_ origins: String = "https://app.example.com, http://localhost:5173") -> FrontFixture {
        var f = FrontFixture()
        f.configure = { $0.cors = try! CORSPolicy(list: origins, maxAge: .seconds(600)) }
        return f
    }

    static func preflight(_ origin: String, method: String = "POST") -> HTTPFields {
        [.origin: origin, acrm: method, acrh: "authorization, content-type, idempotency-key"]
    }

    @Test("a browser's preflight and bet from an allowed origin: 204 with the methods and headers, then 202 it can read")
    func allowedSequence() async throws {
        let f = fixture()
        try await f.test { client async throws in
            let pre = try await client.execute(uri: "/v1/bets", method: .options, headers: Self.preflight(Self.app))
            #expect(pre.status == .noContent)
            #expect(pre.headers[.accessControlAllowOrigin] == Self.app)
            let methods = (pre.headers[.accessControlAllowMethods] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            #expect(methods.contains("POST") && methods.contains("GET"))
            let headers = (pre.headers[.accessControlAllowHeaders] ?? "").lowercased()
            for name in ["authorization", "content-type", "idempotency-key"] { #expect(headers.contains(name)) }
            #expect(pre.headers[.accessControlMaxAge] == "600")
            #expect(pre.headers[.vary]?.contains("Origin") == true)
            #expect(pre.headers[.accessControlAllowCredentials] == nil)  // no cookies: the init data is the credential

            var post = FrontFixture.user()
            post[.origin] = Self.app
            post[HTTPField.Name("Idempotency-Key")!] = "k-1"
            let bet = try await client.execute(
                uri: "/v1/bets", method: .post, headers: post, body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":2}"#))
            #expect(bet.status == .accepted)
            #expect(bet.headers[.accessControlAllowOrigin] == Self.app)
            #expect(bet.headers[.vary]?.contains("Origin") == true)
            let exposed = bet.headers[.accessControlExposeHeaders] ?? ""
            for name in ["Location", "Retry-After", "Idempotent-Replayed"] { #expect(exposed.contains(name)) }

            // A refusal carries the headers too, so the page can read what was wrong.
            let bad = try await client.execute(uri: "/v1/bets", method: .post, headers: post, body: FrontFixture.body("{"))
            #expect(bad.status == .badRequest)
            #expect(bad.headers[.accessControlAllowOrigin] == Self.app)
            #expect(bad.errorCode == "invalid_json")

            // Origins compare as browsers send them; another port is another origin.
            let local = try await client.execute(
                uri: "/v1/jobs/x", method: .options, headers: Self.preflight("http://localhost:5173", method: "GET"))
            #expect(local.headers[.accessControlAllowOrigin] == "http://localhost:5173")
            // Without Origin the answer still varies by it, for the caches in between.
            #expect(try await client.execute(uri: "/openapi.yaml", method: .get).headers[.vary] == "Origin")
            let otherPort = try await client.execute(uri: "/v1/bets", method: .options, headers: Self.preflight("http://localhost:5174"))
            #expect(otherPort.status == .forbidden)
        }
    }

    @Test("an origin not listed gets a 403 preflight and no CORS headers on any answer; nothing is enqueued for the preflight")
    func refusedOrigin() async throws {
        let f = fixture()
        try await f.test { client async throws in
            let pre = try await client.execute(uri: "/v1/bets", method: .options, headers: Self.preflight("https://evil.example"))
            #expect(pre.status == .forbidden)
            #expect(pre.errorCode == "origin_not_allowed")
            #expect(pre.headers[.accessControlAllowOrigin] == nil)
            var post = FrontFixture.user()
            post[.origin] = "https://evil.example"
            let bet = try await client.execute(
                uri: "/v1/bets", method: .post, headers: post, body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":2}"#))
            // Not a wall against a script outside a browser: the init data decides; the browser withholds the answer.
            #expect(bet.status == .accepted)
            #expect(bet.headers[.accessControlAllowOrigin] == nil)
            #expect(bet.headers[.vary]?.contains("Origin") == true)
        }
        #expect(try await f.driver.waitingCount() == 1)
    }

    @Test("with no origins configured, no page on another origin may call; requests without Origin are as before")
    func noneConfigured() async throws {
        let f = fixture("")
        try await f.test { client async throws in
            #expect(try await client.execute(uri: "/v1/bets", method: .options, headers: Self.preflight(Self.app)).status == .forbidden)
            // OPTIONS without a preflight's headers is an ordinary request: the route takes POST only.
            #expect(try await client.execute(uri: "/v1/bets", method: .options).status == .methodNotAllowed)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.headers[.accessControlAllowOrigin] == nil && health.headers[.vary] == nil)
        }
    }

    @Test("origins are checked when configured: a path, a wildcard or another scheme is refused with the reason")
    func invalidOrigins() throws {
        for bad in ["https://app.example.com/", "*", "https://*.example.com", "ftp://x.example", "app.example.com", "https://u@x.example"] {
            #expect(throws: CORSPolicy.Invalid.self, "\(bad)") { try CORSPolicy(list: bad) }
        }
        #expect(try CORSPolicy(list: " HTTPS://App.Example.com:8443 ,, ").origins == ["https://app.example.com:8443"])
    }
}
