import Foundation
import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import Testing
import ThePredKinds

@Suite("HTTP front: user routes")
struct UserRouteTests {
    @Test("a bet is queued as bets.place for the user the init data names, not one the body names")
    func bet() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(42),
                body: FrontFixture.body(#"{"market_id":7,"outcome":"YES","stake":150}"#))
            #expect(r.status == .accepted)
            let id = try #require(r.json["job_id"] as? String)
            #expect(r.json["status_url"] as? String == "/v1/jobs/\(id)")
            #expect(r.headers[.location] == "/v1/jobs/\(id)")
            let record = try #require(try await f.driver.job(JobID(rawValue: id), queue: nil))
            #expect(record.kind == "bets.place")
            #expect(record.owner == "tg:42")
            let payload = try JSONDecoder().decode(BetsPlace.self, from: Data(try #require(record.envelope).payload))
            #expect(payload == BetsPlace(telegramID: 42, username: "alice", marketID: 7, outcome: .yes, stake: 150))
        }
    }

    @Test("a telegram_id in the body is an unknown field, so nobody bets for someone else")
    func noUserInBody() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(42),
                body: FrontFixture.body(#"{"market_id":7,"outcome":"YES","stake":150,"telegram_id":99}"#))
            #expect(r.status == .unprocessableContent)
            #expect(r.errorCode == "unknown_field")
            #expect(r.errorField == "telegram_id")
            #expect(try await f.driver.waitingCount() == 0)
        }
    }

    @Test("daily check-in: one job a day, and a repeat answers with it")
    func checkin() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let first = try await client.execute(uri: "/v1/daily-checkin", method: .post, headers: FrontFixture.user(5))
            let again = try await client.execute(uri: "/v1/daily-checkin", method: .post, headers: FrontFixture.user(5))
            #expect(first.status == .accepted && again.status == .accepted)
            #expect(first.json["job_id"] as? String == again.json["job_id"] as? String)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            // A fresh Idempotency-Key does not make a second check-in.
            var keyed = FrontFixture.user(5)
            keyed[HTTPField.Name("Idempotency-Key")!] = "fresh-\(UUID())"
            let third = try await client.execute(uri: "/v1/daily-checkin", method: .post, headers: keyed)
            #expect(third.json["job_id"] as? String == first.json["job_id"] as? String)
            #expect(try await f.driver.waitingCount() == 1)
            let id = try #require(first.json["job_id"] as? String)
            let record = try #require(try await f.driver.job(JobID(rawValue: id), queue: nil))
            let payload = try JSONDecoder().decode(MissionsProgress.self, from: Data(try #require(record.envelope).payload))
            #expect(payload.event == .dailyActivity)
            #expect(payload.telegramID == 5)
            #expect(payload.day == LeaderboardPeriod.utcDay(FrontFixture.now))
        }
    }

    @Test("referral claims carry the code")
    func referral() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(
                uri: "/v1/referrals", method: .post, headers: FrontFixture.user(8), body: FrontFixture.body(#"{"code":"ABC123"}"#))
            #expect(r.status == .accepted)
            let record = try #require(try await f.driver.job(JobID(rawValue: r.json["job_id"] as! String), queue: nil))
            let payload = try JSONDecoder().decode(ReferralsClaim.self, from: Data(try #require(record.envelope).payload))
            #expect(payload == ReferralsClaim(telegramID: 8, username: "alice", code: "ABC123"))
        }
    }

    @Test("a user sees their own job, and another user's job is reported missing")
    func ownJobs() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(1),
                body: FrontFixture.body(#"{"market_id":1,"outcome":"NO","stake":1}"#))
            let id = try #require(r.json["job_id"] as? String)
            let mine = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: FrontFixture.user(1))
            #expect(mine.status == .ok)
            #expect(mine.json["status"] as? String == "queued")
            #expect(mine.json["kind"] as? String == "bets.place")
            #expect(mine.json["payload"] == nil)
            let theirs = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: FrontFixture.user(2))
            #expect(theirs.status == .notFound)
            #expect(theirs.errorCode == "not_found")
            let none = try await client.execute(uri: "/v1/jobs/nope", method: .get, headers: FrontFixture.user(1))
            #expect(none.status == .notFound)
        }
    }

    /// Before, a user's job showed `last_error` whatever it was: here a PostgreSQL message with a
    /// host name, a SQLSTATE and a constraint name.
    @Test("a user sees rejection and permanent-failure reasons, and a code for anything else; an admin sees the text")
    func errorsUsersSee() async throws {
        let f = FrontFixture()
        let infra = #"PostgreSQL error 23505: duplicate key value violates unique constraint "bets_job_id_key" (db-3.internal:5432)"#
        try await f.test { client in
            var ids: [String] = []
            for stake in 1...4 {
                let r = try await client.execute(
                    uri: "/v1/bets", method: .post, headers: FrontFixture.user(1),
                    body: FrontFixture.body(#"{"market_id":1,"outcome":"NO","stake":\#(stake)}"#))
                ids.append(try #require(r.json["job_id"] as? String))
            }
            let queue = BetsPlace.kind.queue
            let jobs = try await f.driver.fetch(queue: queue, consumer: "w", maxCount: 4, blockFor: .milliseconds(10))
            #expect(jobs.count == 4)
            let now = f.clock.nowMillis()
            let outcomes: [JobCompletion.Outcome] = [
                .retry(at: now + 60_000, error: AttemptError(attempt: 1, at: now, error: infra)),
                .dead(reason: .exhausted, error: AttemptError(attempt: 5, at: now, error: infra)),
                .dead(reason: .permanent, error: AttemptError(attempt: 1, at: now, error: "market 1 does not take bets in PRED cents")),
                .rejected(reason: "insufficient balance: stake 4 PRED, balance 3 PRED"),
            ]
            try await f.driver.complete(zip(jobs, outcomes).map { JobCompletion(job: $0, outcome: $1) }, queue: queue)
            let byID = Dictionary(uniqueKeysWithValues: jobs.enumerated().map { ($1.envelope.id.rawValue, $0) })
            let expected: [(lastError: String?, code: String?)] = [
                (nil, "transient_failure"), (nil, "exhausted"), ("market 1 does not take bets in PRED cents", nil),
                ("insufficient balance: stake 4 PRED, balance 3 PRED", nil),
            ]
            for id in ids {
                let i = try #require(byID[id])
                let mine = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: FrontFixture.user(1))
                #expect(mine.status == .ok)
                #expect(mine.json["last_error"] as? String == expected[i].lastError, "\(mine.text)")
                #expect(mine.json["error_code"] as? String == expected[i].code, "\(mine.text)")
                #expect(!mine.text.contains("23505") && !mine.text.contains("db-3.internal"))
                let admin = try await client.execute(uri: "/v1/admin/jobs/\(id)", method: .get, headers: FrontFixture.admin)
                #expect(admin.json["last_error"] as? String == (i < 2 ? infra : expected[i].lastError), "\(admin.text)")
            }
        }
    }

    /// Before, a permanent failure of `PostgresDataErrorMiddleware` showed its owner PostgreSQL's
    /// own message (a column, a type, the value).
    @Test("a permanent failure with PostgreSQL's message: the user reads the front's text, the admin and the dead letter the detail")
    func postgresDataErrorUsersSee() async throws {
        let f = FrontFixture()
        let detail = #"a payload value PostgreSQL cannot take: value "9223372036854775807" is out of range for type integer (column stake)"#
        try await f.test { client in
            let r = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(1),
                body: FrontFixture.body(#"{"market_id":1,"outcome":"NO","stake":7}"#))
            let id = try #require(r.json["job_id"] as? String)
            let queue = BetsPlace.kind.queue
            let job = try #require(try await f.driver.fetch(queue: queue, consumer: "w", maxCount: 1, blockFor: .milliseconds(10)).first)
            let now = f.clock.nowMillis()
            try await f.driver.complete(
                [JobCompletion(job: job, outcome: .dead(reason: .permanent, error: AttemptError(attempt: 1, at: now, error: detail)))],
                queue: queue)
            let mine = try await client.execute(uri: "/v1/jobs/\(id)", method: .get, headers: FrontFixture.user(1))
            #expect(mine.status == .ok && mine.json["status"] as? String == "dead")
            #expect(
                mine.json["last_error"] as? String
                    == "a value in this request is out of range for the game; the request was not carried out",
                "\(mine.text)")
            #expect(!mine.text.contains("PostgreSQL") && !mine.text.contains("type integer") && !mine.text.contains("9223372036854775807"))
            let admin = try await client.execute(uri: "/v1/admin/jobs/\(id)", method: .get, headers: FrontFixture.admin)
            #expect(admin.json["last_error"] as? String == detail, "\(admin.text)")
            let letters = try await #require(f.driver as? MemoryQueueDriver).deadLetters(queue: queue, filter: .init())
            #expect(letters.first { $0.jobID == id }?.message == detail)
        }
    }

    @Test("Idempotency-Key: a repeat answers with the first job; another user's same key is theirs")
    func idempotency() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let body = #"{"market_id":3,"outcome":"YES","stake":10}"#
            var headers = FrontFixture.user(1)
            headers[HTTPField.Name("Idempotency-Key")!] = "tap-1"
            let a = try await client.execute(uri: "/v1/bets", method: .post, headers: headers, body: FrontFixture.body(body))
            let b = try await client.execute(uri: "/v1/bets", method: .post, headers: headers, body: FrontFixture.body(body))
            #expect(a.status == .accepted && b.status == .accepted)
            #expect(a.json["job_id"] as? String == b.json["job_id"] as? String)
            #expect(b.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            var other = FrontFixture.user(2)
            other[HTTPField.Name("Idempotency-Key")!] = "tap-1"
            let c = try await client.execute(uri: "/v1/bets", method: .post, headers: other, body: FrontFixture.body(body))
            #expect(c.json["job_id"] as? String != a.json["job_id"] as? String)
            #expect(try await f.driver.waitingCount() == 2)
            var bad = FrontFixture.user(1)
            bad[HTTPField.Name("Idempotency-Key")!] = "has space"
            let d = try await client.execute(uri: "/v1/bets", method: .post, headers: bad, body: FrontFixture.body(body))
            #expect(d.status == .badRequest)
            #expect(d.errorField == "Idempotency-Key")
        }
    }

    /// Before, a repeat under the same key with stake 500 answered 202 with the stake-1 job, so the
    /// client believed it had staked 500.
    @Test("Idempotency-Key with another body is 422 idempotency_key_reused; the same body in another key order is a replay")
    func idempotencyKeyReused() async throws {
        let f = FrontFixture()
        try await f.test { client in
            var headers = FrontFixture.user(1)
            headers[HTTPField.Name("Idempotency-Key")!] = "tap-2"
            let a = try await client.execute(
                uri: "/v1/bets", method: .post, headers: headers, body: FrontFixture.body(#"{"market_id":3,"outcome":"YES","stake":1}"#))
            #expect(a.status == .accepted)
            let b = try await client.execute(
                uri: "/v1/bets", method: .post, headers: headers, body: FrontFixture.body(#"{"market_id":3,"outcome":"YES","stake":500}"#))
            #expect(b.status.code == 422, "\(b.text)")
            #expect(b.errorCode == "idempotency_key_reused" && b.errorField == "Idempotency-Key")
            let c = try await client.execute(
                uri: "/v1/bets", method: .post, headers: headers, body: FrontFixture.body(#"{"stake":1,"outcome":"YES","market_id":3}"#))
            #expect(c.status == .accepted && c.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(c.json["job_id"] as? String == a.json["job_id"] as? String)
            #expect(try await f.driver.waitingCount() == 1)
        }
    }

    /// Before, the fingerprint covered the username the init data fills: a user who renamed
    /// themselves in Telegram and retried under the same key got 422.
    @Test("Idempotency-Key: the same bet or claim under another username is a replay; another stake is still 422")
    func idempotencyAcrossRename() async throws {
        let f = FrontFixture()
        try await f.test { client in
            func headers(_ username: String) -> HTTPFields {
                [
                    .authorization: "tma \(FrontFixture.initData(userID: 1, username: username))", .contentType: "application/json",
                    HTTPField.Name("Idempotency-Key")!: "tap-3",
                ]
            }
            let bet = #"{"market_id":3,"outcome":"YES","stake":5}"#
            let a = try await client.execute(uri: "/v1/bets", method: .post, headers: headers("alice"), body: FrontFixture.body(bet))
            #expect(a.status == .accepted)
            let b = try await client.execute(uri: "/v1/bets", method: .post, headers: headers("alice_2"), body: FrontFixture.body(bet))
            #expect(b.status == .accepted, "\(b.text)")
            #expect(b.json["job_id"] as? String == a.json["job_id"] as? String)
            #expect(b.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let c = try await client.execute(
                uri: "/v1/bets", method: .post, headers: headers("alice_2"),
                body: FrontFixture.body(#"{"market_id":3,"outcome":"YES","stake":6}"#))
            #expect(c.status.code == 422 && c.errorCode == "idempotency_key_reused", "\(c.text)")
            // The first job keeps the name it was asked under.
            let first = try #require(a.json["job_id"] as? String)
            let record = try #require(try await f.driver.job(JobID(rawValue: first), queue: nil))
            let payload = try JSONDecoder().decode(BetsPlace.self, from: Data(try #require(record.envelope).payload))
            #expect(payload.username == "alice")

            let claim = FrontFixture.body(#"{"code":"ABC123"}"#)
            let d = try await client.execute(uri: "/v1/referrals", method: .post, headers: headers("alice"), body: claim)
            let e = try await client.execute(uri: "/v1/referrals", method: .post, headers: headers("alice_2"), body: claim)
            #expect(d.status == .accepted && e.status == .accepted, "\(e.text)")
            #expect(e.json["job_id"] as? String == d.json["job_id"] as? String)
            #expect(try await f.driver.waitingCount() == 2)
        }
    }
}
