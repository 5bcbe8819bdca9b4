import HTTPTypes
import Hummingbird
import Jobs
import NIOHTTP1

/// Every error leaves the front as a JSON error: a refusal as itself, Redis out of reach as 503
/// with Retry-After, the router's own 404 and 405, a body over the limit as 413, anything else as 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: FrontMetrics
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var api = Self.apiError(error)
            // The router cannot tell an unknown path from a known one under another method.
            if api.code == .notFound, error is HTTPError {
                let allowed = routes.allowed(path: request.uri.path)
                if !allowed.isEmpty {
                    api = APIError(
                        .methodNotAllowed, .methodNotAllowed,
                        "\(request.uri.path) does not take \(request.method.rawValue); it takes \(allowed.joined(separator: ", "))")
                    api.allow = allowed
                }
            }
            metrics.rejected(api.code)
            if api.status == .internalServerError {
                context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            return api.response()
        }
    }

    static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let api as APIError:
            return api
        case let backend as any QueueBackendError where backend.isUnavailable:
            return .unavailable("the queue is out of reach; try again shortly")
        case let http as HTTPError:
            switch http.status {
            case .notFound: return APIError(.notFound, .notFound, "no such route; see /openapi.yaml")
            case .methodNotAllowed: return APIError(.methodNotAllowed, .methodNotAllowed, "the route does not take this method")
            default: return APIError(http.status, .badRequest, http.body ?? http.status.reasonPhrase)
            }
        case is HTTPParserError:
            // The connection ended or broke mid-request: a client that went away, or one whose
            // body was too slow (the body deadline closed it). Nobody reads this answer.
            return APIError(.requestTimeout, .badRequest, "the request did not arrive whole")
        case let http as any HTTPResponseError where http.status == .contentTooLarge:
            return APIError(.contentTooLarge, .tooLarge, "the body is larger than \(FrontConfiguration.maxBodyBytes) bytes")
        case let http as any HTTPResponseError:
            return APIError(http.status, .badRequest, http.status.reasonPhrase)
        default:
            return APIError(.internalServerError, .internalError, "internal error")
        }
    }
}
