import HTTPTypes
import Hummingbird

/// The CORS protocol of the Fetch standard for the allowed origins: a preflight (`OPTIONS` with
/// `Access-Control-Request-Method`) is answered 204 with what the API allows; every other answer to
/// an allowed origin, refusals included, carries `Access-Control-Allow-Origin` so the page can read
/// it. An origin not allowed gets a 403 preflight and no CORS headers, so the browser refuses.
/// CORS guards browsers' users, not the API: authentication stays the init data's and the token's.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else {
            // The answer differs by Origin, so a cache in between must key on it even for this one.
            guard !policy.origins.isEmpty else { return try await next(request, context) }
            var response = try await next(request, context)
            response.headers[.vary] = response.headers[.vary].map { "\($0), Origin" } ?? "Origin"
            return response
        }
        let allowed = policy.allows(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard allowed else {
                var refused = APIError(
                    .forbidden, .originNotAllowed,
                    "the origin \(origin.prefix(200)) may not call this API from a browser; FRONT_CORS_ORIGINS lists those that may"
                ).response()
                refused.headers[.vary] = "Origin"
                return refused
            }
            var headers: HTTPFields = [
                .accessControlAllowOrigin: origin, .accessControlAllowMethods: CORSPolicy.methods,
                .accessControlAllowHeaders: CORSPolicy.allowedHeaders,
                .accessControlMaxAge: String(policy.maxAge.components.seconds),
            ]
            headers[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        // A cache in between must not hand one origin's answer to another.
        response.headers[.vary] = response.headers[.vary].map { "\($0), Origin" } ?? "Origin"
        if allowed {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.accessControlExposeHeaders] = CORSPolicy.exposedHeaders
        }
        return response
    }
}
