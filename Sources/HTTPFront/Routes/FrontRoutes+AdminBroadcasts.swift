import Foundation
import Hummingbird
import Jobs
import ThePredKinds

extension FrontRoutes {
    /// Create, list, show and cancel broadcasts; reads come from the board, not the database.
    func addAdminBroadcastRoutes(to admin: RouterGroup<FrontRequestContext>) {
        admin.post("broadcasts") { request, context in
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
            return try await accept(
                BroadcastCreate.kind, BroadcastCreate(request: broadcast), caller: .admin, route: "broadcasts", request: request)
        }

        admin.get("broadcasts") { request, context in
            let query = request.uri.queryParameters
            let limit = try Self.queryInt(query.get("limit"), "limit", default: 50, in: 1...500)
            let before = try Self.queryInt(query.get("before"), "before", default: nil, in: 1...Self.maxSafeInteger)
            for name in query.map({ String($0.key) }) where name != "limit" && name != "before" {
                throw APIError(.unprocessableContent, .unknownField, "unknown query parameter \(name)", field: name)
            }
            let items = try await deps.board.list(limit: Int(limit!), beforeID: before)
            return try Self.json(BroadcastList(broadcasts: items))
        }

        admin.get("broadcasts/{id}") { request, context in
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
                    "no broadcast \(raw.prefix(40)); one just asked for appears when a worker has run its job (GET /v1/admin/jobs/{job_id})"
                )
            }
            return try Self.json(found)
        }

        admin.delete("broadcasts/{id}") { request, context in
            let id = try Self.positiveID(context)
            guard let found = try await deps.board.status(id: id) else { throw APIError(.notFound, .notFound, "no broadcast \(id)") }
            guard found.status.isCancellable else {
                throw APIError(
                    .conflict, .conflict,
                    "broadcast \(id) is \(found.status.rawValue); only PENDING or PROCESSING broadcasts can be cancelled")
            }
            return try await accept(
                BroadcastCancel.kind, BroadcastCancel(broadcastID: id), caller: .admin, route: "broadcast-cancel", request: request,
                builtInKey: "broadcast-cancel:\(id)")
        }
    }
}
