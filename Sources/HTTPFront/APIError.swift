import HTTPTypes
import Hummingbird
import Jobs

/// A refusal the client can act on: an HTTP status and `{"error": {"code", "message", "field"}}`.
///
/// A struct with an opaque code, so new codes do not break callers.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidJSON = Code("invalid_json")
        public static let invalidField = Code("invalid_field")
        public static let unknownField = Code("unknown_field")
        public static let badRequest = Code("bad_request")
        public static let unauthorized = Code("unauthorized")
        public static let forbidden = Code("forbidden")
        public static let notFound = Code("not_found")
        public static let methodNotAllowed = Code("method_not_allowed")
        public static let conflict = Code("conflict")
        public static let tooLarge = Code("payload_too_large")
        public static let unsupportedMediaType = Code("unsupported_media_type")
        public static let unavailable = Code("unavailable")
        public static let internalError = Code("internal")
    }

    public let status: HTTPResponse.Status
    public let code: Code
    public let message: String
    /// The request field at fault, when one is.
    public let field: String?
    /// Seconds, for 503.
    public var retryAfter: Int?
    /// The methods the path takes, for 405.
    public var allow: [String]?

    public init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status.code) \(code): \(message)" + (field.map { " (\($0))" } ?? "") }

    static func invalid(_ field: String, _ message: String) -> APIError { APIError(.unprocessableContent, .invalidField, message, field: field) }
    static func unavailable(_ message: String) -> APIError {
        var e = APIError(.serviceUnavailable, .unavailable, message)
        e.retryAfter = 1
        return e
    }

    /// The JSON response.
    func response() -> Response {
        var body: [UInt8] = Array(#"{"error":{"code":"#.utf8)
        JSONText.appendString(code.rawValue, to: &body)
        body += Array(#","message":"#.utf8)
        JSONText.appendString(message, to: &body)
        if let field {
            body += Array(#","field":"#.utf8)
            JSONText.appendString(field, to: &body)
        }
        body += Array("}}".utf8)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allow { headers[.allow] = allow.joined(separator: ", ") }
        if status == .unauthorized { headers[.wwwAuthenticate] = "tma, Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

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
                        .methodNotAllowed, .methodNotAllowed, "\(request.uri.path) does not take \(request.method.rawValue); it takes \(allowed.joined(separator: ", "))")
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
        case let redis as RedisError where redis.isTemporary || redis.code == .protocolError:
            return .unavailable("the queue is out of reach; try again shortly")
        case let http as HTTPError:
            switch http.status {
            case .notFound: return APIError(.notFound, .notFound, "no such route; see /openapi.yaml")
            case .methodNotAllowed: return APIError(.methodNotAllowed, .methodNotAllowed, "the route does not take this method")
            default: return APIError(http.status, .badRequest, http.body ?? http.status.reasonPhrase)
            }
        case let http as any HTTPResponseError where http.status == .contentTooLarge:
            return APIError(.contentTooLarge, .tooLarge, "the body is larger than \(FrontConfiguration.maxBodyBytes) bytes")
        case let http as any HTTPResponseError:
            return APIError(http.status, .badRequest, http.status.reasonPhrase)
        default:
            return APIError(.internalServerError, .internalError, "internal error")
        }
    }
}

/// Which methods each route path takes, so a known path under another method is a 405 with Allow.
struct RouteMethods: Sendable {
    /// Per route, its path segments (nil for a `{parameter}`) and its method.
    private let routes: [(segments: [String?], method: String)]

    init(_ routes: [(path: String, method: String)]) {
        self.routes = routes.map { route in
            (route.path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : String($0) }, route.method)
        }
    }

    /// The methods of the routes whose pattern matches `path`, sorted; empty when none does.
    func allowed(path: String) -> [String] {
        let parts = path.split(separator: "/")
        let methods = routes.filter { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0 == nil || $0! == $1 }
        }.map(\.method)
        return Set(methods).sorted()
    }
}
