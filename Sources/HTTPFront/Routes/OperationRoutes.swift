import Hummingbird
import Jobs

extension FrontRoutes {
    /// Health, readiness and the API's own description; no credentials needed.
    func addOperationRoutes(to router: Router<FrontRequestContext>) {
        router.get("/healthz") { _, _ in
            Self.raw(Array(#"{"status":"ok"}"#.utf8))
        }

        router.get("/readyz") { _, context in
            // At most one ping a second however often it is asked (it takes no credentials and
            // no rate limit, so a flood of it must not become a flood of Redis round trips), and
            // one at a time.
            let logger = context.logger
            let ready = await readiness.check(at: deps.clock.nowMillis()) {
                do {
                    try await deps.ping()
                    return true
                } catch {
                    // The details (host, port, reason) go to the log, not to whoever asks.
                    logger.warning("not ready: the queue is out of reach", metadata: ["error": "\(error)"])
                    return false
                }
            }
            guard ready else { throw APIError.unavailable("the queue is out of reach") }
            return Self.raw(Array(#"{"status":"ready"}"#.utf8))
        }

        router.get("/openapi.yaml") { _, _ in
            Self.raw(HTTPFront.openAPIDocument, contentType: "application/yaml")
        }
    }
}
