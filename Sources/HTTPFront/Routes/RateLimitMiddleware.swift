import Foundation
import HTTPTypes
import Hummingbird
import Jobs

/// Fleet-wide request limits before any route reads a body or enqueues: per signed user and route
/// class (writes, reads), per client address for requests without valid credentials, and one for
/// admins. Over the limit the answer is 429 with Retry-After. The caller found here is kept in the
/// context, so a route does not verify the same init data again.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = FrontRequestContext
    let limits: FrontRateLimits
    let limiter: any RateLimitDriver
    let auth: Authenticator
    private let addressHeader: HTTPField.Name?

    init(limits: FrontRateLimits, limiter: any RateLimitDriver, auth: Authenticator) {
        self.limits = limits
        self.limiter = limiter
        self.auth = auth
        addressHeader = limits.clientAddressHeader.flatMap { HTTPField.Name($0) }
    }

    /// Probes and the document: a limit there would fail a health check under a flood.
    static let unlimited: Set<String> = ["/healthz", "/readyz", "/openapi.yaml"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.unlimited.contains(request.uri.path) { return try await next(request, context) }
        var context = context
        let caller = try? auth.caller(request.headers[.authorization])
        context.caller = caller
        let subject: String
        let rule: RateRule?
        let who: String
        switch caller {
        case .admin:
            (subject, rule, who) = ("admin", limits.admin, "admin requests")
        case .user(let user):
            let write = request.method != .get && request.method != .head
            subject = "user:\(user.id):\(write ? "write" : "read")"
            (rule, who) = write ? (limits.userWrites, "writes by this user") : (limits.userReads, "reads by this user")
        case nil:
            (subject, rule, who) = (
                "addr:\(address(request, context))", limits.address, "requests without valid credentials from this address"
            )
        }
        if let rule, let wait = try await limiter.take(subject, rule: rule) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            var refused = APIError(
                .tooManyRequests, .rateLimited,
                "too many \(who): at most \(rule.perSecond.formatted) a second, bursts of \(rule.burst); retry after \(seconds) s")
            refused.retryAfter = seconds
            throw refused
        }
        return try await next(request, context)
    }

    private func address(_ request: Request, _ context: Context) -> String {
        if let name = addressHeader, let value = request.headers[name],
            let last = value.split(separator: ",").last
        {
            return String(last.trimmingCharacters(in: .whitespaces).prefix(64))
        }
        return context.remoteAddress ?? "unknown"
    }
}

extension Double {
    fileprivate var formatted: String { self == rounded() ? String(Int64(self)) : String(self) }
}
