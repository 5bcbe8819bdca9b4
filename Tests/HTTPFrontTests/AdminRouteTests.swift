import Foundation
import HTTPFront
import HTTPTypes
import HummingbirdTesting
import Jobs
import Testing
import ThePredKinds

@Suite("HTTP front: admin routes")
struct AdminRouteTests {
    func payload<P: Decodable>(_ f: FrontFixture, _ r: TestResponse, as: P.Type) async throws -> P {
        let id = try #require(r.json["job_id"] as? String)
        #expect(r.json["status_url"] as? String == "/v1/admin/jobs/\(id)")
        let record = try #require(try await f.driver.job(JobID(rawValue: id), queue: nil))
        #expect(record.owner == "admin")
        return try JSONDecoder().decode(P.self, from: Data(try #require(record.envelope).payload))
    }

    @Test("markets: create and resolve; resolving twice the same way is one job")
    func markets() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let made = try await client.execute(
                uri: "/v1/admin/markets", method: .post, headers: FrontFixture.admin,
                body: FrontFixture.body(#"{"title":"BTC > 100k?","category":"Crypto","ends_at":"2026-06-01T12:00:00Z","promoted":true}"#))
            #expect(made.status == .accepted)
            let market = try await payload(f, made, as: MarketsCreate.self)
            #expect(market == MarketsCreate(title: "BTC > 100k?", category: .crypto, endsAtMillis: 1_780_315_200_000, promoted: true))
            let a = try await client.execute(
                uri: "/v1/admin/markets/9/resolve", method: .post, headers: FrontFixture.admin,
                body: FrontFixture.body(#"{"result":"CANCELLED"}"#))
            let b = try await client.execute(
                uri: "/v1/admin/markets/9/resolve", method: .post, headers: FrontFixture.admin,
                body: FrontFixture.body(#"{"result":"CANCELLED"}"#))
            #expect(a.json["job_id"] as? String == b.json["job_id"] as? String)
            #expect(try await payload(f, a, as: MarketsResolve.self) == MarketsResolve(marketID: 9, result: .cancelled))
        }
    }

    @Test("broadcasts: create queues broadcast.create with scheduled_at in ms")
    func createBroadcast() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let r = try await client.execute(
                uri: "/v1/admin/broadcasts", method: .post, headers: FrontFixture.admin,
                body: FrontFixture.body(
                    #"{"text":"<b>Hi</b>","parse_mode":"HTML","target":"user","telegram_id":5,"scheduled_at":"2026-06-01T00:00:00Z","paid":true}"#
                ))
            #expect(r.status == .accepted, "\(r.text)")
            let p = try await payload(f, r, as: BroadcastCreate.self)
            #expect(
                p.request
                    == BroadcastRequest(
                        text: "<b>Hi</b>", parseMode: .html, target: .user, telegramID: 5, scheduledAtMillis: 1_780_272_000_000, paid: true)
            )
        }
    }

    @Test("broadcasts: list, show by id or by the creating job, cancel; 404 and 409 where they belong")
    func readAndCancel() async throws {
        let board = MemoryBroadcastBoard()
        try await board.publish(broadcast(1, .completed), requestID: nil)
        try await board.publish(broadcast(2, .processing), requestID: "job-2")
        try await board.publish(broadcast(3, .pending), requestID: nil)
        let f = FrontFixture(board: board)
        try await f.test { client in
            let list = try await client.execute(uri: "/v1/admin/broadcasts?limit=2", method: .get, headers: FrontFixture.admin)
            #expect((list.json["broadcasts"] as? [[String: Any]])?.map { $0["id"] as? Int } == [3, 2])
            let page = try await client.execute(uri: "/v1/admin/broadcasts?before=2", method: .get, headers: FrontFixture.admin)
            #expect((page.json["broadcasts"] as? [[String: Any]])?.map { $0["id"] as? Int } == [1])
            let bad = try await client.execute(uri: "/v1/admin/broadcasts?limit=0", method: .get, headers: FrontFixture.admin)
            #expect(bad.status == .unprocessableContent && bad.errorField == "limit")
            let show = try await client.execute(uri: "/v1/admin/broadcasts/2", method: .get, headers: FrontFixture.admin)
            #expect(show.json["status"] as? String == "PROCESSING")
            let byJob = try await client.execute(uri: "/v1/admin/broadcasts/job-2", method: .get, headers: FrontFixture.admin)
            #expect(byJob.json["id"] as? Int == 2)
            let missing = try await client.execute(uri: "/v1/admin/broadcasts/77", method: .get, headers: FrontFixture.admin)
            #expect(missing.status == .notFound)
            let done = try await client.execute(uri: "/v1/admin/broadcasts/1", method: .delete, headers: FrontFixture.admin)
            #expect(done.status == .conflict)
            #expect(done.errorCode == "conflict")
            let gone = try await client.execute(uri: "/v1/admin/broadcasts/77", method: .delete, headers: FrontFixture.admin)
            #expect(gone.status == .notFound)
            #expect(try await f.driver.waitingCount() == 0)
            let cancel = try await client.execute(uri: "/v1/admin/broadcasts/2", method: .delete, headers: FrontFixture.admin)
            #expect(cancel.status == .accepted)
            #expect(try await payload(f, cancel, as: BroadcastCancel.self) == BroadcastCancel(broadcastID: 2))
        }
    }

    @Test("leaderboards: close the last ended period, or a named one")
    func leaderboards() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let week = try await client.execute(uri: "/v1/admin/leaderboards/week/close", method: .post, headers: FrontFixture.admin)
            #expect(week.status == .accepted)
            #expect(try await payload(f, week, as: LeaderboardClose.self) == LeaderboardClose(period: .week))
            let month = try await client.execute(
                uri: "/v1/admin/leaderboards/month/close", method: .post, headers: FrontFixture.admin,
                body: FrontFixture.body(#"{"starts_at":"2026-04-01T00:00:00Z","top":10}"#))
            #expect(month.status == .accepted, "\(month.text)")
            #expect(
                try await payload(f, month, as: LeaderboardClose.self)
                    == LeaderboardClose(period: .month, startsAtMillis: 1_775_001_600_000, top: 10))
            // Periods are spelled as the document lists them.
            let shouted = try await client.execute(uri: "/v1/admin/leaderboards/MONTH/close", method: .post, headers: FrontFixture.admin)
            #expect(shouted.status == .notFound)
        }
    }

    @Test("jobs and queues: an admin sees any job with its payload, and every queue's figures")
    func jobsAndQueues() async throws {
        let f = FrontFixture()
        try await f.test { client in
            let bet = try await client.execute(
                uri: "/v1/bets", method: .post, headers: FrontFixture.user(3),
                body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":2}"#))
            let id = try #require(bet.json["job_id"] as? String)
            let job = try await client.execute(uri: "/v1/admin/jobs/\(id)", method: .get, headers: FrontFixture.admin)
            #expect(job.status == .ok)
            #expect(job.json["owner"] as? String == "tg:3")
            #expect((job.json["payload"] as? [String: Any])?["stake"] as? Int == 2)
            let queues = try await client.execute(uri: "/v1/admin/queues", method: .get, headers: FrontFixture.admin)
            let bets = (queues.json["queues"] as? [[String: Any]])?.first { $0["queue"] as? String == "bets" }
            #expect(bets?["ready"] as? Int == 1)
            #expect(bets?["in_flight"] as? Int == 0)
        }
    }
}
