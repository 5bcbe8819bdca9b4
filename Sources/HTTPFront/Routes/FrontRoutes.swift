import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Jobs
import MetricsExport
import Producers

/// The handlers behind every route; each checks who asks, reads its input strictly, and enqueues.
struct FrontRoutes: Sendable {
    let deps: FrontDependencies
    let auth: Authenticator
    let metrics: FrontMetrics
    let client: JobClient
    let readiness = Readiness()

    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    func addAll(to router: Router<FrontRequestContext>) {
        addUserRoutes(to: router)
        addAdminRoutes(to: router)
        addOperationRoutes(to: router)
    }

    /// Enqueues one job and answers 202 with its id and where to follow it. With an
    /// `Idempotency-Key`, a repeat by the same caller on the same route answers with the first job.
    /// A route with a key of its own (`builtInKey`: one check-in a day, one cancel per broadcast)
    /// uses it and ignores the header, so a fresh header cannot make a second job.
    /// `fingerprinted` is the job as the client chose it, when the payload also holds what the
    /// front fills from the credentials and which may change between a request and its retry
    /// (a username); without it the whole payload counts.
    func accept<P>(
        _ kind: JobKind<P>, _ payload: P, caller: Caller, route: String, request: Request, builtInKey: String? = nil,
        notBefore: Int64? = nil, fingerprinted: P? = nil
    ) async throws -> Response {
        var options = EnqueueOptions(notBefore: notBefore, owner: caller.owner)
        if let builtInKey {
            options.idempotencyKey = builtInKey
        } else if let header = try Self.idempotencyKey(request) {
            options.idempotencyKey = "http:\(caller.owner):\(route):\(header)"
            options.idempotencyFingerprint = try Self.fingerprint(fingerprinted ?? payload, notBefore: notBefore)
        }
        let result = try await client.enqueue(kind, payload, options: options)
        if result.fingerprintDiffers {
            throw APIError(
                .unprocessableContent, .idempotencyKeyReused,
                "Idempotency-Key was already used for a request with another body (job \(result.id.rawValue)); send a new key for a new request",
                field: "Idempotency-Key")
        }
        metrics.enqueued(kind.name, duplicate: result.duplicate)
        let statusURL = caller == .admin ? "/v1/admin/jobs/\(result.id.rawValue)" : "/v1/jobs/\(result.id.rawValue)"
        var body = Array(#"{"job_id":"#.utf8)
        JSONText.appendString(result.id.rawValue, to: &body)
        body += Array(#","status_url":"#.utf8)
        JSONText.appendString(statusURL, to: &body)
        body += Array("}".utf8)
        var headers: HTTPFields = [.contentType: "application/json", .location: statusURL]
        if result.duplicate { headers[Self.replayed] = "true" }
        return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// SHA-256 of the job the request makes (its payload as the job carries it, less what the route
    /// left out, and when it is due): the same request sent again has the same one, whatever the
    /// order of its JSON keys.
    static func fingerprint<P: Encodable>(_ payload: P, notBefore: Int64?) throws -> String {
        let bytes: [UInt8]
        if let own = payload as? any SelfEncodingPayload {
            bytes = own.jsonBytes()
        } else {
            bytes = Array(try JSONCoding.encoder.encode(payload))
        }
        var hash = SHA256()
        hash.update(data: bytes)
        hash.update(data: Array("\n\(notBefore ?? 0)".utf8))
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// 1 to 255 printable ASCII characters, or none.
    static func idempotencyKey(_ request: Request) throws(APIError) -> String? {
        guard let key = request.headers[idempotencyHeader] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(
                .badRequest, .badRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
                field: "Idempotency-Key")
        }
        return key
    }

    /// A job id from the path: what `JobID.generate` makes, or any id a producer chose, within reason.
    static func jobID(_ context: FrontRequestContext) throws(APIError) -> JobID {
        let raw = context.parameters.get("id") ?? ""
        guard (1...128).contains(raw.utf8.count),
            raw.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || (0x30...0x39).contains($0)
                    || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
            })
        else { throw APIError(.notFound, .notFound, "no job \(raw.prefix(40))") }
        return JobID(rawValue: raw)
    }

    static func positiveID(_ context: FrontRequestContext, _ name: String = "id") throws(APIError) -> Int64 {
        let raw = context.parameters.get(name) ?? ""
        guard let id = Int64(raw), (1...maxSafeInteger).contains(id) else {
            throw .invalid(name, "\(name) must be an integer from 1 to \(maxSafeInteger); got \(raw.prefix(40))")
        }
        return id
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        raw(Array(try JSONCoding.encoder.encode(value)), status: status)
    }

    static func raw(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
