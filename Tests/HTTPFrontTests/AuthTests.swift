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

    @Test("the configuration itself refuses an admin token under 16 characters and an empty bot token")
    func configurationSecrets() throws {
        #expect(throws: FrontConfiguration.Invalid.self) { try FrontConfiguration(botToken: "1:a", adminToken: "fifteen-chars!!") }
        #expect(throws: FrontConfiguration.Invalid.self) { try FrontConfiguration(botToken: "", adminToken: nil) }
        #expect(try FrontConfiguration(botToken: "1:a", adminToken: "sixteen-chars!!!").adminToken == "sixteen-chars!!!")
        #expect(try FrontConfiguration(botToken: "1:a", adminToken: nil).adminToken == nil)
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

    /// Init data as Telegram's clients send it, signed by Telegram with the bots' tokens: published
    /// test vectors (the first from the @telegram-apps/init-data-node documentation, the second from
    /// a public test suite). No published vector has both `query_id` and `signature`, so there are two.
    /// The second proves the HMAC covers `signature`: only `hash` is left out of the check string.
    static let telegramVectors: [(token: String, initData: String, id: Int64, username: String)] = [
        (
            "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8",
            "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C"
                + "%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C"
                + "%22is_premium%22%3Atrue%7D&auth_date=1662771648"
                + "&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2", 279_058_397, "vdkfrost"
        ),
        (
            "8014119913:AAFyzp17QSynAxUmo51_oZrpypiKWckiFBA",
            "user=%7B%22id%22%3A7498813057%2C%22first_name%22%3A%22Justin%22%2C%22last_name%22%3A%22Lung%22%2C"
                + "%22username%22%3A%22justin_lung%22%2C%22language_code%22%3A%22zh-hans%22%2C%22allows_write_to_pm%22%3Atrue%2C"
                + "%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F"
                + "rGKW6Lt09BFrz7VflVuUhEs6QKCzwcYRig4tOJajh48XbQ6wjxfYBorP5x7116lJ.svg%22%7D"
                + "&chat_instance=6755980278051609308&chat_type=sender&auth_date=1738051266"
                + "&signature=7lnXe6LFLx7RSFUNuoJzWocQmIppy3vHs44gIKO-k8Atz78aORr2h7p3EyswVzywkGkdAxrAYXzgUL7_Cjf6AQ"
                + "&hash=53414351f3b4ed4bba75ca16f1704c2b186b319e15124c4702e989d1841a262c", 7_498_813_057, "justin_lung"
        ),
    ]

    @Test("init data signed by Telegram verifies, with query_id or signature; a changed byte does not")
    func telegramSigned() throws {
        for vector in Self.telegramVectors {
            let v = InitDataVerifier(botToken: vector.token)
            let authDate = try #require(
                vector.initData.split(separator: "&").first { $0.hasPrefix("auth_date=") }.map { Int64($0.dropFirst(10))! })
            #expect(try v.verify(vector.initData, now: authDate + 60) == TelegramUser(id: vector.id, username: vector.username))
            // Without `signature` (or with another one) the HMAC no longer holds.
            let tampered = vector.initData.replacingOccurrences(of: "signature=7", with: "signature=8")
                .replacingOccurrences(of: "query_id=AAHd", with: "query_id=AAHe")
            #expect(throws: APIError.self) { try v.verify(tampered, now: authDate + 60) }
            #expect(throws: APIError.self) {
                try InitDataVerifier(botToken: vector.token + "x").verify(vector.initData, now: authDate + 60)
            }
        }
    }

    @Test("a field name with '=' or a line break is refused, even when signed", arguments: ["a%3Db", "a%0Ab", "%3D", "%0A"])
    func fieldNames(key: String) throws {
        let v = InitDataVerifier(botToken: FrontFixture.botToken)
        let decoded = key.removingPercentEncoding!
        let data = FrontFixture.initData(userID: 7, extra: [(decoded, "1")])
        #expect(throws: APIError.self) { try v.verify(data, now: FrontFixture.now / 1000) }
        // The same init data with a plain name is taken: the name is what is refused.
        #expect(try v.verify(FrontFixture.initData(userID: 7, extra: [("ab", "1")]), now: FrontFixture.now / 1000).id == 7)
    }
}
