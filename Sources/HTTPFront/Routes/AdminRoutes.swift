import Foundation
import Hummingbird
import Jobs
import ThePredKinds

extension FrontRoutes {
    /// Routes for admins, who authenticate with `Authorization: Bearer <ADMIN_TOKEN>`.
    func addAdminRoutes(to router: Router<FrontRequestContext>) {
        router.post("/v1/admin/markets") { request, context in
            try auth.admin(request.headers[.authorization])
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

        router.post("/v1/admin/markets/{id}/resolve") { request, context in
            try auth.admin(request.headers[.authorization])
            let id = try Self.positiveID(context)
            var body = try await JSONBody.read(request, context: context)
            let result = try body.choice("result", MarketsResolve.Result.self)!
            try body.finish()
            // Same market, same result: one settlement job, however often the button is pressed.
            return try await accept(
                MarketsResolve.kind, MarketsResolve(marketID: id, result: result), caller: .admin, route: "resolve", request: request,
                builtInKey: "resolve:\(id):\(result.rawValue)")
        }

        router.post("/v1/admin/broadcasts") { request, context in
            try auth.admin(request.headers[.authorization])
            var body = try await JSONBody.read(request, context: context)
            let text = try body.string("text", length: 0...100_000)!
            let parseMode = try body.choice("parse_mode", required: false, TelegramSend.ParseMode.self) ?? .html
            let photoURL = try body.string("photo_url", required: false, length: 0...2048)
            let target = try body.choice("target", required: false, BroadcastRequest.Target.self) ?? .all
            let telegramID = try body.int("telegram_id", required: false, in: -Self.maxSafeInteger...Self.maxSafeInteger)
            let scheduledAt = try body.time("scheduled_at", required: false)
            let paid = try body.bool("paid")
            try body.finish()
            let broadcast = BroadcastRequest(
                text: text, parseMode: parseMode, photoURL: photoURL, target: target, telegramID: telegramID,
                scheduledAtMillis: scheduledAt, paid: paid)
            do {
                try broadcast.validate(now: deps.clock.nowMillis())
            } catch let error as FieldError {
                throw APIError.invalid(error.field, error.message)
            }
            return try await accept(BroadcastCreate.kind, BroadcastCreate(request: broadcast), caller: .admin, route: "broadcasts", request: request)
        }

        router.get("/v1/admin/broadcasts") { request, context in
            try auth.admin(request.headers[.authorization])
            let query = request.uri.queryParameters
            let limit = try Self.queryInt(query.get("limit"), "limit", default: 50, in: 1...500)
            let before = try Self.queryInt(query.get("before"), "before", default: nil, in: 1...Self.maxSafeInteger)
            for name in query.map({ String($0.key) }) where name != "limit" && name != "before" {
                throw APIError(.unprocessableContent, .unknownField, "unknown query parameter \(name)", field: name)
            }
            let items = try await deps.board.list(limit: Int(limit!), beforeID: before)
            return try Self.json(BroadcastList(broadcasts: items))
        }

        router.get("/v1/admin/broadcasts/{id}") { request, context in
            try auth.admin(request.headers[.authorization])
            let raw = context.parameters.get("id") ?? ""
            // The broadcast id, or the id of the job that POST /v1/admin/broadcasts answered with.
            let found: BroadcastStatus?
            if let id = Int64(raw), id >= 1 {
                found = try await deps.board.status(id: id)
            } else {
                found = try await deps.board.status(requestID: try Self.jobID(context).rawValue)
            }
            guard let found else {
                throw APIError(
                    .notFound, .notFound,
                    "no broadcast \(raw.prefix(40)); one just asked for appears when a worker has run its job (GET /v1/admin/jobs/{job_id})")
            }
            return try Self.json(found)
        }

        router.delete("/v1/admin/broadcasts/{id}") { request, context in
            try auth.admin(request.headers[.authorization])
            let id = try Self.positiveID(context)
            guard let found = try await deps.board.status(id: id) else { throw APIError(.notFound, .notFound, "no broadcast \(id)") }
            guard found.status.isCancellable else {
                throw APIError(
                    .conflict, .conflict, "broadcast \(id) is \(found.status.rawValue); only PENDING or PROCESSING broadcasts can be cancelled")
            }
            return try await accept(
                BroadcastCancel.kind, BroadcastCancel(broadcastID: id), caller: .admin, route: "broadcast-cancel", request: request,
                builtInKey: "broadcast-cancel:\(id)")
        }

        router.post("/v1/admin/leaderboards/{period}/close") { request, context in
            try auth.admin(request.headers[.authorization])
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
                    throw APIError.invalid("starts_at", "starts_at must be the start of a \(raw.lowercased()); that one starts \(RFC3339.string(containing.startsAt))")
                }
                guard containing.endsAt <= deps.clock.nowMillis() else {
                    throw APIError(.conflict, .conflict, "that \(raw.lowercased()) has not ended yet", field: "starts_at")
                }
            }
            let job = LeaderboardClose(period: period, startsAtMillis: startsAt, top: top.map(Int.init))
            return try await accept(LeaderboardClose.kind, job, caller: .admin, route: "leaderboard-close", request: request)
        }

        router.get("/v1/admin/jobs/{id}") { request, context in
            try auth.admin(request.headers[.authorization])
            let id = try Self.jobID(context)
            guard let record = try await deps.driver.job(id, queue: nil) else { throw APIError(.notFound, .notFound, "no job \(id)") }
            return try Self.json(JobRecordView(record, admin: true))
        }

        router.get("/v1/admin/queues") { request, _ in
            try auth.admin(request.headers[.authorization])
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
