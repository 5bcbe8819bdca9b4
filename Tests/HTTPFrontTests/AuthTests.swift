import Foundation
import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import Testing

@Suite("HTTP front: who is asking")
struct AuthTests {
    static let bet = FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":1}"#)

    func bet(_ headers: HTTPFields, _ f: FrontFixture = FrontFixture()) async throws -> TestResponse {
        try await f.test { client in try await client.execute(uri: "/v1/bets", method: .post, headers: headers, body: Self.bet) }
    }

    @Test("init data signed with the bot token is accepted")
    func signed() async throws {
        #expect(try await bet(FrontFixture.user(42)).status == .accepted)
    }

    @Test("no credentials, a bad signature, another bot's token, or a tampered user: 401, nothing queued")
    func refused() async throws {
        let f = FrontFixture()
        let good = FrontFixture.initData(userID: 42)
        let cases: [HTTPFields] = [
            [.contentType: "application/json"],
            [.authorization: "tma " + FrontFixture.initData(token: "999:other-bot"), .contentType: "application/json"],
            [
                .authorization: "tma " + good.replacingOccurrences(of: "%22id%22%3A42", with: "%22id%22%3A43"),
                .contentType: "application/json",
            ],
            [.authorization: "tma " + good.replacingOccurrences(of: "hash=", with: "hash=00"), .contentType: "application/json"],
            [.authorization: "tma not-init-data", .contentType: "application/json"],
            [.authorization: "Basic abc", .contentType: "application/json"],
            [.authorization: "Bearer wrong-admin-token-xx", .contentType: "application/json"],
        ]
        for headers in cases {
            let r = try await bet(headers, f)
            #expect(r.status == .unauthorized, "\(headers)")
            #expect(r.errorCode == "unauthorized")
            #expect(r.headers[.wwwAuthenticate] != nil)
        }
        #expect(try await f.driver.waitingCount() == 0)
    }

    @Test("init data older than the maximum age is refused as expired")
    func expired() async throws {
        let old = FrontFixture.initData(authDate: FrontFixture.now / 1000 - 86_401)
        let r = try await bet([.authorization: "tma \(old)", .contentType: "application/json"])
        #expect(r.status == .unauthorized)
        #expect((r.error["message"] as? String)?.contains("expired") == true)
        let fresh = FrontFixture.initData(authDate: FrontFixture.now / 1000 - 86_399)
        #expect(try await bet([.authorization: "tma \(fresh)", .contentType: "application/json"]).status == .accepted)
        // A signed auth_date from the future would never expire; a few minutes of skew are allowed.
        let skewed = FrontFixture.initData(authDate: FrontFixture.now / 1000 + 120)
        #expect(try await bet([.authorization: "tma \(skewed)", .contentType: "application/json"]).status == .accepted)
        for date in [FrontFixture.now / 1000 + 3_600, Int64.min, 0] {
            let future = FrontFixture.initData(authDate: date)
            let r = try await bet([.authorization: "tma \(future)", .contentType: "application/json"])
            #expect(r.status == .unauthorized, "\(date)")
        }
    }

    @Test("a user on an admin route gets 403; an admin on a user route gets 403")
    func wrongRole() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(uri: "/v1/admin/queues", method: .get, headers: FrontFixture.user())
            #expect(r.status == .forbidden)
            #expect(r.errorCode == "forbidden")
            let a = try await client.execute(uri: "/v1/bets", method: .post, headers: FrontFixture.admin, body: Self.bet)
            #expect(a.status == .forbidden)
        }
    }

    @Test("the verifier rejects init data without a user or auth_date")
    func verifierEdges() throws {
        let v = InitDataVerifier(botToken: FrontFixture.botToken)
        #expect(try v.verify(FrontFixture.initData(userID: 7), now: FrontFixture.now / 1000) == TelegramUser(id: 7, username: "alice"))
        #expect(throws: APIError.self) { try v.verify("auth_date=1&hash=zz", now: 1) }
        #expect(throws: APIError.self) { try v.verify("", now: 1) }
        // Percent-encoded UTF-8 in the signed user comes back as the user wrote it.
        #expect(try v.verify(FrontFixture.initData(userID: 8, username: "jörg"), now: FrontFixture.now / 1000).username == "jörg")
        // A repeated field could be read two ways, so it is refused even when the signature holds.
        #expect(throws: APIError.self) { try v.verify(FrontFixture.initData(userID: 7) + "&auth_date=1", now: FrontFixture.now / 1000) }
    }
}
