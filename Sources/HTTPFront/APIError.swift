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
        public static let idempotencyKeyReused = Code("idempotency_key_reused")
        public static let tooLarge = Code("payload_too_large")
        public static let unsupportedMediaType = Code("unsupported_media_type")
        public static let unavailable = Code("unavailable")
        public static let rateLimited = Code("rate_limited")
        public static let originNotAllowed = Code("origin_not_allowed")
        public static let internalError = Code("internal")
    }

    public let status: HTTPResponse.Status
    public let code: Code
    public let message: String
    /// The request field at fault, when one is.
    public let field: String?
    /// Seconds, for 503 and 429.
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

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, .invalidField, message, field: field)
    }
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
