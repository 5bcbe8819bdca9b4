import Foundation
import Hummingbird
import Jobs
import ThePredKinds

extension FrontRoutes {
    /// Routes for admins, who authenticate with `Authorization: Bearer <ADMIN_TOKEN>`. The group's
    /// middleware checks the token once for every route in it.
    func addAdminRoutes(to router: Router<FrontRequestContext>) {
        let admin = router.group("/v1/admin").add(middleware: AdminOnlyMiddleware(auth: auth))
        addAdminMarketRoutes(to: admin)
        addAdminBroadcastRoutes(to: admin)
        addAdminLeaderboardRoutes(to: admin)
        addAdminJobRoutes(to: admin)
    }

    /// Create and resolve markets.
    func addAdminMarketRoutes(to admin: RouterGroup<FrontRequestContext>) {
        admin.post("markets") { request, context in
            var body = try await JSONBody.read(request, context: context)
            let title = try body.string("title", length: 1...300)!
            let description = try body.string("description", required: false, length: 0...5000) ?? ""
            let category = try body.choice("category", MarketCategory.self)!
            let endsAt = try body.time("ends_at")!
            let promoted = try body.bool("promoted") ?? false
            try body.finish()
            guard endsAt > deps.clock.nowMillis() else { throw APIError.invalid("ends_at", "ends_at must be in the future") }
            let market = MarketsCreate(title: title, description: description, category: category, endsAtMillis: endsAt, promoted: promoted)
            return try await accept(MarketsCreate.kind, market, caller: .admin, route: "markets", request: request)
        }

        admin.post("markets/{id}/resolve") { request, context in
            let id = try Self.positiveID(context)
            var body = try await JSONBody.read(request, context: context)
            let result = try body.choice("result", MarketsResolve.Result.self)!
            try body.finish()
            // Same market, same result: one settlement job, however often the button is pressed.
            return try await accept(
                MarketsResolve.kind, MarketsResolve(marketID: id, result: result), caller: .admin, route: "resolve", request: request,
                builtInKey: "resolve:\(id):\(result.rawValue)")
        }
    }

    /// Close a week or a month.
    func addAdminLeaderboardRoutes(to admin: RouterGroup<FrontRequestContext>) {
        admin.post("leaderboards/{period}/close") { request, context in
            let raw = context.parameters.get("period") ?? ""
            // Exactly `week` or `month`, as the document lists them.
            guard raw == raw.lowercased(), let period = LeaderboardPeriod.Kind(rawValue: raw.uppercased()) else {
                throw APIError(.notFound, .notFound, "no leaderboard period \(raw.prefix(20)); use week or month")
            }
            var body = try await JSONBody.read(request, context: context)
            let startsAt = try body.time("starts_at", required: false)
            let top = try body.int("top", required: false, in: 1...10_000)
            try body.finish()
            if let startsAt {
                let containing = LeaderboardPeriod.containing(startsAt, kind: period)
                guard containing.startsAt == startsAt else {
                    throw APIError.invalid(
                        "starts_at",
                        "starts_at must be the start of a \(raw.lowercased()); that one starts \(RFC3339.string(containing.startsAt))")
                }
                guard containing.endsAt <= deps.clock.nowMillis() else {
                    throw APIError(.conflict, .conflict, "that \(raw.lowercased()) has not ended yet", field: "starts_at")
                }
            }
            let job = LeaderboardClose(period: period, startsAtMillis: startsAt, top: top.map(Int.init))
            return try await accept(LeaderboardClose.kind, job, caller: .admin, route: "leaderboard-close", request: request)
        }
    }

    /// Look at one job, or every queue's figures.
    func addAdminJobRoutes(to admin: RouterGroup<FrontRequestContext>) {
        admin.get("jobs/{id}") { _, context in
            let id = try Self.jobID(context)
            guard let record = try await deps.driver.job(id, queue: nil) else { throw APIError(.notFound, .notFound, "no job \(id)") }
            return try Self.json(JobRecordView(record, admin: true))
        }

        admin.get("queues") { _, _ in
            let stats = try await queueStats()
            return try Self.json(QueueFiguresList(queues: stats.map { QueueFiguresView($0) }))
        }
    }

    func queueStats() async throws -> [QueueStats] {
        var out: [QueueStats] = []
        for queue in try await deps.driver.knownQueues() { out.append(try await deps.driver.stats(queue: queue)) }
        return out
    }

    static func queryInt(_ raw: String?, _ name: String, default value: Int64?, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let raw else { return value }
        guard let n = Int64(raw), range.contains(n) else {
            throw .invalid(name, "\(name) must be an integer within \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }
}
