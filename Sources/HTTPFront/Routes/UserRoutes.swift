import Hummingbird
import Jobs
import ThePredKinds

extension FrontRoutes {
    /// Routes for Telegram users, who authenticate with Mini App init data. The user id always
    /// comes from the signed data, never from the body.
    func addUserRoutes(to router: Router<FrontRequestContext>) {
        router.post("/v1/bets") { request, context in
            let user = try auth.user(request, context)
            var body = try await JSONBody.read(request, context: context)
            let marketID = try body.int("market_id", in: 1...Self.maxSafeInteger)!
            let outcome = try body.choice("outcome", BetOutcome.self)!
            let stake = try body.int("stake", in: 1...Self.maxSafeInteger)!
            try body.finish()
            let bet = BetsPlace(telegramID: user.id, username: user.username, marketID: marketID, outcome: outcome, stake: stake)
            return try await accept(
                BetsPlace.kind, bet, caller: .user(user), route: "bets", request: request, fingerprinted: Self.chosen(bet))
        }

        router.post("/v1/daily-checkin") { request, context in
            let user = try auth.user(request, context)
            try await JSONBody.read(request, context: context).finish()
            let day = LeaderboardPeriod.utcDay(deps.clock.nowMillis())
            let event = "daily:\(user.id):\(day)"
            let job = MissionsProgress(eventID: event, event: .dailyActivity, telegramID: user.id, day: day)
            // One check-in a day: a repeat the same day answers with the first job.
            return try await accept(
                MissionsProgress.kind, job, caller: .user(user), route: "daily-checkin", request: request, builtInKey: event)
        }

        router.post("/v1/referrals") { request, context in
            let user = try auth.user(request, context)
            var body = try await JSONBody.read(request, context: context)
            let code = try body.string("code", length: 1...64)!
            try body.finish()
            let claim = ReferralsClaim(telegramID: user.id, username: user.username, code: code)
            return try await accept(
                ReferralsClaim.kind, claim, caller: .user(user), route: "referrals", request: request, fingerprinted: Self.chosen(claim))
        }

        router.get("/v1/jobs/{id}") { request, context in
            let user = try auth.user(request, context)
            let id = try Self.jobID(context)
            // Someone else's job is reported as missing, so ids cannot be probed.
            guard let record = try await deps.driver.job(id, queue: nil), record.owner == Caller.user(user).owner else {
                throw APIError(.notFound, .notFound, "no job \(id) of yours")
            }
            return try Self.json(JobRecordView(record.forUser(), admin: false))
        }
    }

    /// The bet as the client chose it, for the idempotency fingerprint: without the username, which
    /// the init data fills and a user may change in Telegram between a request and its retry.
    static func chosen(_ bet: BetsPlace) -> BetsPlace {
        var chosen = bet
        chosen.username = nil
        return chosen
    }

    /// The claim as the client chose it, without the username (see the bet's).
    static func chosen(_ claim: ReferralsClaim) -> ReferralsClaim {
        var chosen = claim
        chosen.username = nil
        return chosen
    }

    /// JSON integers beyond 2^53 lose precision in JavaScript clients, so none are accepted.
    static let maxSafeInteger: Int64 = 9_007_199_254_740_991
}
