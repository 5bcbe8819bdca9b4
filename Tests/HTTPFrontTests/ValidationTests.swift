import Foundation
import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import NIOCore
import Testing
import ThePredKinds

/// Every refusal names its code and, where there is one, the field; none enqueues anything.
@Suite("HTTP front: validation")
struct ValidationTests {
    struct Case: Sendable, CustomStringConvertible {
        let uri: String
        let admin: Bool
        let body: String
        let status: Int
        let code: String
        let field: String?
        var description: String { "\(uri) \(body)" }
    }

    static let future = "2026-06-01T00:00:00Z"  // after FrontFixture.now (2026-05-28)
    static let cases: [Case] = [
        Case(uri: "/v1/bets", admin: false, body: "{", status: 400, code: "invalid_json", field: nil),
        Case(uri: "/v1/bets", admin: false, body: "[1]", status: 400, code: "invalid_json", field: nil),
        Case(uri: "/v1/bets", admin: false, body: #"{"outcome":"YES","stake":1}"#, status: 422, code: "invalid_field", field: "market_id"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":"7","outcome":"YES","stake":1}"#, status: 422, code: "invalid_field",
            field: "market_id"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":0,"outcome":"YES","stake":1}"#, status: 422, code: "invalid_field",
            field: "market_id"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":1,"outcome":"MAYBE","stake":1}"#, status: 422, code: "invalid_field",
            field: "outcome"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":1,"outcome":"YES","stake":0}"#, status: 422, code: "invalid_field",
            field: "stake"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":1,"outcome":"YES","stake":1.5}"#, status: 422, code: "invalid_field",
            field: "stake"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":1,"outcome":"YES","stake":9007199254740992}"#, status: 422,
            code: "invalid_field", field: "stake"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":1,"outcome":"YES","stake":1,"extra":true}"#, status: 422,
            code: "unknown_field", field: "extra"),
        Case(uri: "/v1/daily-checkin", admin: false, body: #"{"day":"2026-01-01"}"#, status: 422, code: "unknown_field", field: "day"),
        Case(uri: "/v1/referrals", admin: false, body: #"{"code":""}"#, status: 422, code: "invalid_field", field: "code"),
        Case(
            uri: "/v1/referrals", admin: false, body: #"{"code":"\#(String(repeating: "x", count: 65))"}"#, status: 422,
            code: "invalid_field", field: "code"),
        Case(uri: "/v1/referrals", admin: false, body: #"{"code":5}"#, status: 422, code: "invalid_field", field: "code"),
        Case(uri: "/v1/referrals", admin: false, body: #"{"code":" \t "}"#, status: 422, code: "invalid_field", field: "code"),
        Case(uri: "/v1/referrals", admin: false, body: #"{"code":"A\u0000B"}"#, status: 422, code: "invalid_field", field: "code"),
        // 63 letters and a family emoji: 64 characters on screen, 70 code points, over the schema's 64.
        Case(
            uri: "/v1/referrals", admin: false, body: #"{"code":"\#(String(repeating: "x", count: 63))👨‍👩‍👧‍👦"}"#, status: 422,
            code: "invalid_field", field: "code"),
        Case(
            uri: "/v1/admin/markets", admin: true, body: #"{"title":"","category":"Tech","ends_at":"\#(future)"}"#, status: 422,
            code: "invalid_field", field: "title"),
        Case(
            uri: "/v1/admin/markets", admin: true, body: #"{"title":"T","category":"Food","ends_at":"\#(future)"}"#, status: 422,
            code: "invalid_field", field: "category"),
        Case(
            uri: "/v1/admin/markets", admin: true, body: #"{"title":"T","category":"Tech","ends_at":"tomorrow"}"#, status: 422,
            code: "invalid_field", field: "ends_at"),
        Case(
            uri: "/v1/admin/markets", admin: true, body: #"{"title":"T","category":"Tech","ends_at":"2020-01-01T00:00:00Z"}"#, status: 422,
            code: "invalid_field", field: "ends_at"),
        Case(
            uri: "/v1/admin/markets", admin: true, body: #"{"title":"T","category":"Tech","ends_at":"\#(future)","promoted":"yes"}"#,
            status: 422, code: "invalid_field", field: "promoted"),
        Case(
            uri: "/v1/admin/markets/abc/resolve", admin: true, body: #"{"result":"YES"}"#, status: 422, code: "invalid_field", field: "id"),
        Case(
            uri: "/v1/admin/markets/5/resolve", admin: true, body: #"{"result":"yes"}"#, status: 422, code: "invalid_field", field: "result"
        ),
        Case(uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":""}"#, status: 422, code: "invalid_field", field: "text"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"\#(String(repeating: "a", count: 4097))"}"#, status: 422,
            code: "invalid_field", field: "text"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true,
            body: #"{"text":"\#(String(repeating: "a", count: 1025))","photo_url":"https://x.io/p.png"}"#, status: 422,
            code: "invalid_field", field: "text"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","parse_mode":"BBCode"}"#, status: 422, code: "invalid_field",
            field: "parse_mode"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","photo_url":"ftp://x.io/p.png"}"#, status: 422,
            code: "invalid_field", field: "photo_url"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","target":"user"}"#, status: 422, code: "invalid_field",
            field: "telegram_id"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","scheduled_at":"2020-01-01T00:00:00Z"}"#, status: 422,
            code: "invalid_field", field: "scheduled_at"),
        Case(uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","paid":1}"#, status: 422, code: "invalid_field", field: "paid"),
        Case(uri: "/v1/admin/leaderboards/week/close", admin: true, body: #"{"top":0}"#, status: 422, code: "invalid_field", field: "top"),
        Case(
            uri: "/v1/admin/leaderboards/week/close", admin: true, body: #"{"starts_at":"2026-01-07T00:00:00Z"}"#, status: 422,
            code: "invalid_field", field: "starts_at"),
        Case(
            uri: "/v1/admin/leaderboards/week/close", admin: true, body: #"{"starts_at":"2026-05-25T00:00:00Z"}"#, status: 409,
            code: "conflict", field: "starts_at"),
        Case(uri: "/v1/admin/leaderboards/year/close", admin: true, body: "{}", status: 404, code: "not_found", field: nil),
        // Where the OpenAPI document and the code disagreed (an OpenAPI-driven fuzzer found them).
        Case(
            uri: "/v1/admin/leaderboards/week/close", admin: true, body: #"{"starts_at":null}"#, status: 422, code: "invalid_field",
            field: "starts_at"),
        Case(
            uri: "/v1/bets", admin: false, body: #"{"market_id":null,"outcome":"YES","stake":1}"#, status: 422, code: "invalid_field",
            field: "market_id"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","photo_url":"HTTP://"}"#, status: 422, code: "invalid_field",
            field: "photo_url"),
        Case(
            uri: "/v1/admin/broadcasts", admin: true, body: #"{"text":"hi","photo_url":"https://a.example/x y.png"}"#, status: 422,
            code: "invalid_field", field: "photo_url"),
        Case(
            uri: "/v1/admin/markets/9007199254740992/resolve", admin: true, body: #"{"result":"YES"}"#, status: 422, code: "invalid_field",
            field: "id"),
    ]

    @Test("photo_url takes exactly what the document's pattern takes")
    func photoURLMatchesDocument() throws {
        let doc = try String(contentsOf: OperationTests.root.appendingPathComponent("schemas/openapi.yaml"), encoding: .utf8)
        let line = try #require(doc.split(separator: "\n").first { $0.contains("photo_url: {type: string, maxLength") })
        let pattern = try #require(line.split(separator: "'").dropFirst().first.map(String.init))
        let regex = try NSRegularExpression(pattern: pattern)
        let samples = [
            "https://a.example/x.png", "HTTP://A-B.example:8080/p?q=1&r=%20", "http://1.2.3.4", "http://h:", "http://h:123456",
            "HTTP://", "https:///x", "ftp://a.example", "https://a.example/x y", "https://a.example/\u{E9}", "https://user@a.example",
            "https://a.example#f", "https://a.example/#f", "http://[::1]/", "https://a.example:0/", " https://a.example",
        ]
        for url in samples {
            let documented = regex.firstMatch(in: url, range: NSRange(url.startIndex..., in: url)) != nil
            let accepted = (try? BroadcastRequest(text: "hi", photoURL: url).validate(now: 0)) != nil
            #expect(
                documented == accepted,
                "\(url): the document \(documented ? "takes" : "refuses") it, the code \(accepted ? "takes" : "refuses") it")
        }
    }

    @Test("each bad request gets its status, code and field, and nothing is queued", arguments: cases)
    func refused(_ c: Case) async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(
                uri: c.uri, method: .post, headers: c.admin ? FrontFixture.admin : FrontFixture.user(), body: FrontFixture.body(c.body))
            #expect(r.status.code == c.status, "\(r.text)")
            #expect(r.errorCode == c.code)
            #expect(r.errorField == c.field)
            #expect(r.headers[.contentType] == "application/json")
            #expect((r.error["message"] as? String)?.isEmpty == false)
        }
        #expect(try await f.driver.waitingCount() == 0)
    }

    /// Past Int64 the parser keeps a number as a double; the answer used to say "must be a whole
    /// number" of 9223372036854775808, which is one.
    @Test("numbers past Int64 name the field's range; over-long number literals are invalid JSON")
    func hugeNumbers() async throws {
        let f = FrontFixture()
        try await f.test { client in
            for stake in ["9223372036854775808", "-9223372036854775809", "1e30", "123456789012345678901234567890"] {
                let r = try await client.execute(
                    uri: "/v1/bets", method: .post, headers: FrontFixture.user(),
                    body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":\#(stake)}"#))
                #expect(r.status.code == 422 && r.errorField == "stake", "\(r.text)")
                #expect(
                    (r.error["message"] as? String)?.contains("must be within 1...") == true
                        && (r.error["message"] as? String)?.contains("outside the 64-bit integer range") == true, "\(r.text)")
            }
            let long = String(repeating: "7", count: 41)
            let r = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(),
                body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":\#(long)}"#))
            #expect(r.status.code == 400 && r.errorCode == "invalid_json", "\(r.text)")
            #expect((r.error["message"] as? String)?.contains("number longer than 40 characters") == true, "\(r.text)")
        }
        #expect(try await f.driver.waitingCount() == 0)
    }

    @Test("a body over 64 KiB is 413, a body that is not JSON is 415")
    func sizeAndType() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let big = #"{"code":""# + String(repeating: "x", count: 70_000) + #""}"#
            let r = try await client.execute(
                uri: "/v1/referrals", method: .post, headers: FrontFixture.user(), body: FrontFixture.body(big))
            #expect(r.status == .contentTooLarge)
            #expect(r.errorCode == "payload_too_large")
            var form = FrontFixture.user()
            form[.contentType] = "application/x-www-form-urlencoded"
            let t = try await client.execute(uri: "/v1/referrals", method: .post, headers: form, body: FrontFixture.body("code=x"))
            #expect(t.status == .unsupportedMediaType)
            #expect(t.errorCode == "unsupported_media_type")
        }
        #expect(try await f.driver.waitingCount() == 0)
    }

    @Test("an unknown route is a JSON 404; a known one under another method is a JSON 405 with Allow")
    func routing() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(uri: "/v1/nothing", method: .get)
            #expect(r.status == .notFound)
            #expect(r.errorCode == "not_found")
            let m = try await client.execute(uri: "/v1/bets", method: .get, headers: FrontFixture.user())
            #expect(m.status == .methodNotAllowed)
            #expect(m.errorCode == "method_not_allowed")
            #expect(m.headers[.allow] == "POST")
            let b = try await client.execute(uri: "/v1/admin/broadcasts/7", method: .post, headers: FrontFixture.admin)
            #expect(b.status == .methodNotAllowed)
            #expect(b.headers[.allow] == "DELETE, GET")
            let deeper = try await client.execute(uri: "/v1/admin/broadcasts/7/x", method: .get, headers: FrontFixture.admin)
            #expect(deeper.status == .notFound)
        }
        #expect(try await f.driver.waitingCount() == 0)
    }
}
