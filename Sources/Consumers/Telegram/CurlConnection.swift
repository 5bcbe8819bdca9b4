import CCurl
import Foundation
import Jobs
import Synchronization

/// curl_global_init must run once before any easy handle, and is not thread-safe in every
/// libcurl; a global's initializer runs exactly once, atomically.
private let curlReady: Bool = thepred_curl_global_init() == CURLE_OK

/// One easy handle (which keeps its connection alive between requests) on a thread of its own.
final class CurlConnection: @unchecked Sendable {
    struct Settings: Sendable {
        let urlPrefix: String
        let connectTimeoutMS: Int
        let timeoutMS: Int
        /// An HTTP proxy reached with CONNECT; nil leaves libcurl to its environment (`https_proxy`).
        var proxy: String? = nil
    }

    private struct Request {
        let method: String
        let body: [UInt8]
        let answerBy: ContinuousClock.Instant?
        let sendAt: ContinuousClock.Instant?
        let latestStart: ContinuousClock.Instant?
        let pending: Pending
    }

    /// A request's caller, resumed once: by the thread, or by cancellation while still queued.
    private final class Pending: Sendable {
        private struct State {
            var continuation: CheckedContinuation<TelegramAnswer, any Error>?
            var started = false
            var cancelled = false
        }

        private let state = Mutex(State())

        func attach(_ continuation: CheckedContinuation<TelegramAnswer, any Error>) {
            let early = state.withLock { s -> Bool in
                if s.cancelled { return true }
                s.continuation = continuation
                return false
            }
            if early { continuation.resume(throwing: CancellationError()) }
        }

        /// False when the caller is gone, so the request must not be sent.
        func start() -> Bool {
            state.withLock { s in
                guard s.continuation != nil, !s.cancelled else { return false }
                s.started = true
                return true
            }
        }

        func resume(_ result: Result<TelegramAnswer, any Error>) {
            let continuation = state.withLock { s in
                defer { s.continuation = nil }
                return s.continuation
            }
            continuation?.resume(with: result)
        }

        func cancel() {
            let dropped = state.withLock { s -> CheckedContinuation<TelegramAnswer, any Error>? in
                s.cancelled = true
                guard !s.started else { return nil }
                defer { s.continuation = nil }
                return s.continuation
            }
            dropped?.resume(throwing: CancellationError())
        }
    }

    /// What the write callback appends to; reached through CURLOPT_WRITEDATA.
    private final class ResponseBody {
        /// A Bot API answer is a few hundred bytes; anything this big is not one.
        static let limit = 1 << 20
        var bytes: [UInt8] = []
        var overflowed = false
    }

    private let settings: Settings
    private var thread: DedicatedThread<Request>!
    // Used on the connection's thread only.
    private var handle: UnsafeMutableRawPointer?
    private var headers: UnsafeMutablePointer<curl_slist>?
    private let response = ResponseBody()

    init(settings: Settings, name: String) {
        self.settings = settings
        thread = DedicatedThread(
            name: name,
            process: { [self] requests in
                for request in requests where request.pending.start() { request.pending.resume(perform(request)) }
            },
            finish: { [self] in cleanup() })
    }

    func send(
        method: String, body: [UInt8], answerBy: ContinuousClock.Instant?, sendAt: ContinuousClock.Instant? = nil,
        latestStart: ContinuousClock.Instant? = nil
    ) async throws -> TelegramAnswer {
        let pending = Pending()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                pending.attach(continuation)
                if !thread.submit(
                    Request(method: method, body: body, answerBy: answerBy, sendAt: sendAt, latestStart: latestStart, pending: pending))
                {
                    pending.resume(.failure(TelegramTransportError(.notSent, "\(method): the client is shut down")))
                }
            }
        } onCancel: {
            pending.cancel()
        }
    }

    func close() { thread.close() }

    // MARK: On the connection's thread

    private func perform(_ request: Request) -> Result<TelegramAnswer, any Error> {
        if let sendAt = request.sendAt {
            // This thread is the connection's own: a short wait here is precise and blocks no task.
            while case let wait = sendAt - ContinuousClock.now, wait > .zero { usleep(useconds_t(min(wait, .seconds(1)).microseconds)) }
        }
        let began = ContinuousClock.now
        if let latestStart = request.latestStart, began > latestStart {
            return .failure(
                TelegramTransportError(
                    .missedSlot,
                    "\(request.method): not started, \((began - latestStart).milliseconds) ms past the latest start of its send slot"))
        }
        if let answerBy = request.answerBy, began + .milliseconds(settings.timeoutMS) > answerBy {
            return .failure(
                TelegramTransportError(
                    .notSent, "\(request.method): not started, its \(settings.timeoutMS) ms timeout could outlast the claim on the message")
            )
        }
        var setupCode = CURLE_OK
        guard let handle = easyHandle(&setupCode) else {
            return .failure(Self.error(setupCode, method: request.method, doing: "setting up curl", sent: false))
        }
        response.bytes.removeAll(keepingCapacity: true)
        response.overflowed = false

        var code = thepred_curl_setopt_string(handle, CURLOPT_URL, settings.urlPrefix + request.method)
        // COPYPOSTFIELDS reads the size set before it, and copies, so the body need not outlive this call.
        if code == CURLE_OK { code = thepred_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, request.body.count) }
        if code == CURLE_OK {
            code = request.body.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return thepred_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "") }
                return thepred_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
            }
        }
        if code != CURLE_OK { return .failure(Self.error(code, method: request.method, doing: "preparing the request", sent: false)) }

        code = curl_easy_perform(handle)
        let status = thepred_curl_getinfo_response_code(handle)
        let uploaded = thepred_curl_getinfo_uploaded(handle)
        if code == CURLE_OK && status > 0 {
            return .success(TelegramAnswer.decode(httpStatus: status, body: response.bytes))
        }
        if response.overflowed {
            return .failure(
                TelegramTransportError(
                    .other, "\(request.method): answer larger than \(ResponseBody.limit) bytes (HTTP \(status))", mayHaveArrived: true))
        }
        if code == CURLE_OK {
            return .failure(TelegramTransportError(.other, "\(request.method): no HTTP status came back", mayHaveArrived: true))
        }
        return .failure(
            Self.error(
                code, method: request.method, doing: "sending", uploaded: uploaded, bodySize: request.body.count,
                elapsed: ContinuousClock.now - began, settings: settings))
    }

    /// The easy handle, created with the options every request shares on first use; nil and the
    /// failing code in `failure` if that fails (the next request tries again).
    private func easyHandle(_ failure: inout CURLcode) -> UnsafeMutableRawPointer? {
        if let handle { return handle }
        guard curlReady, let h = curl_easy_init() else {
            failure = CURLE_FAILED_INIT
            return nil
        }
        if headers == nil {
            headers = curl_slist_append(nil, "Content-Type: application/json")
            // Without this, libcurl waits for "100 Continue" before sending bodies over 1 KiB.
            headers = curl_slist_append(headers, "Expect:")
        }
        let body = Unmanaged.passUnretained(response).toOpaque()
        let results = [
            // Signals are process-wide; libcurl must not use them from several threads.
            thepred_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1),
            thepred_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMS),
            thepred_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, settings.timeoutMS),
            // Idle kept-alive connections otherwise die silently in NAT tables between broadcasts.
            thepred_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1),
            thepred_curl_setopt_long(h, CURLOPT_TCP_KEEPIDLE, 30),
            thepred_curl_setopt_long(h, CURLOPT_TCP_KEEPINTVL, 15),
            thepred_curl_setopt_string(h, CURLOPT_USERAGENT, CurlTelegramClient.userAgent),
            thepred_curl_setopt_long(h, CURLOPT_POST, 1),
            thepred_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers),
            thepred_curl_setopt_pointer(h, CURLOPT_WRITEDATA, body),
            thepred_curl_setopt_write_callback(h) { data, size, count, userdata in
                let n = size * count
                guard let data, let userdata, n > 0 else { return n }
                let response = Unmanaged<ResponseBody>.fromOpaque(userdata).takeUnretainedValue()
                if response.bytes.count + n > ResponseBody.limit {
                    response.overflowed = true
                    return 0  // aborts the transfer with CURLE_WRITE_ERROR
                }
                data.withMemoryRebound(to: UInt8.self, capacity: n) {
                    response.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
                }
                return n
            },
        ]
        var proxied: [CURLcode] = []
        if let proxy = settings.proxy {
            // CONNECT even to an http:// base, so an egress proxy sees what it would for Telegram.
            proxied = [thepred_curl_setopt_string(h, CURLOPT_PROXY, proxy), thepred_curl_setopt_long(h, CURLOPT_HTTPPROXYTUNNEL, 1)]
        }
        if let failed = (results + proxied).first(where: { $0 != CURLE_OK }) {
            curl_easy_cleanup(h)
            failure = failed
            return nil
        }
        handle = h
        return h
    }

    private func cleanup() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
        curl_slist_free_all(headers)
        headers = nil
    }

    /// An error from the curl code's name and text and the method only: curl's error buffer can
    /// hold the URL, and the URL holds the token.
    private static func error(_ code: CURLcode, method: String, doing: String, sent: Bool) -> TelegramTransportError {
        let text = String(cString: curl_easy_strerror(code))
        return TelegramTransportError(
            .other, "\(method): \(doing) failed: \(name(of: code)) (\(code.rawValue)): \(text)", mayHaveArrived: sent)
    }

    /// A failed transfer, and whether its request may have reached Telegram: decided by what was
    /// uploaded, not by the error's name. A body not written out whole cannot have been acted on,
    /// whatever failed (a proxy refusing CONNECT, TLS, DNS, a connect timeout); one written out
    /// whole may have been, unless the error itself says nothing was sent. `uploaded` -1 (unknown)
    /// falls back to the error and, for a timeout, to how long it took.
    private static func error(
        _ code: CURLcode, method: String, doing: String, uploaded: Int64, bodySize: Int, elapsed: Duration, settings: Settings
    ) -> TelegramTransportError {
        if bodySize > 0, uploaded >= 0, uploaded < Int64(bodySize) {
            let text = String(cString: curl_easy_strerror(code))
            let kind: TelegramTransportError.Code = code == CURLE_OPERATION_TIMEDOUT ? .timeout : .connection
            return TelegramTransportError(
                kind,
                "\(method): \(doing) failed before the request went out (\(uploaded) of \(bodySize) bytes): "
                    + "\(name(of: code)) (\(code.rawValue)): \(text)", mayHaveArrived: false)
        }
        let kind: TelegramTransportError.Code
        let mayHaveArrived: Bool
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            kind = .timeout
            mayHaveArrived =
                elapsed >= .milliseconds(max(settings.connectTimeoutMS, settings.timeoutMS - 250))
                || settings.connectTimeoutMS >= settings.timeoutMS
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR,
            CURLE_PEER_FAILED_VERIFICATION:
            kind = .connection
            mayHaveArrived = false
        case CURLE_SEND_ERROR:
            // The request was not written out whole, so Telegram cannot have acted on it.
            kind = .connection
            mayHaveArrived = false
        case CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            // Sent whole, then the answer was lost.
            kind = .connection
            mayHaveArrived = true
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_FAILED_INIT, CURLE_OUT_OF_MEMORY,
            CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION:
            kind = .other
            mayHaveArrived = false
        default:
            kind = .other
            mayHaveArrived = true
        }
        let text = String(cString: curl_easy_strerror(code))
        return TelegramTransportError(
            kind, "\(method): \(doing) failed: \(name(of: code)) (\(code.rawValue)): \(text)", mayHaveArrived: mayHaveArrived)
    }

    private static func name(of code: CURLcode) -> String {
        switch code {
        case CURLE_OK: return "CURLE_OK"
        case CURLE_FAILED_INIT: return "CURLE_FAILED_INIT"
        case CURLE_URL_MALFORMAT: return "CURLE_URL_MALFORMAT"
        case CURLE_UNSUPPORTED_PROTOCOL: return "CURLE_UNSUPPORTED_PROTOCOL"
        case CURLE_COULDNT_RESOLVE_PROXY: return "CURLE_COULDNT_RESOLVE_PROXY"
        case CURLE_COULDNT_RESOLVE_HOST: return "CURLE_COULDNT_RESOLVE_HOST"
        case CURLE_COULDNT_CONNECT: return "CURLE_COULDNT_CONNECT"
        case CURLE_PARTIAL_FILE: return "CURLE_PARTIAL_FILE"
        case CURLE_WRITE_ERROR: return "CURLE_WRITE_ERROR"
        case CURLE_OUT_OF_MEMORY: return "CURLE_OUT_OF_MEMORY"
        case CURLE_OPERATION_TIMEDOUT: return "CURLE_OPERATION_TIMEDOUT"
        case CURLE_SSL_CONNECT_ERROR: return "CURLE_SSL_CONNECT_ERROR"
        case CURLE_GOT_NOTHING: return "CURLE_GOT_NOTHING"
        case CURLE_SEND_ERROR: return "CURLE_SEND_ERROR"
        case CURLE_RECV_ERROR: return "CURLE_RECV_ERROR"
        case CURLE_PEER_FAILED_VERIFICATION: return "CURLE_PEER_FAILED_VERIFICATION"
        case CURLE_SSL_CACERT_BADFILE: return "CURLE_SSL_CACERT_BADFILE"
        case CURLE_UNKNOWN_OPTION: return "CURLE_UNKNOWN_OPTION"
        case CURLE_BAD_FUNCTION_ARGUMENT: return "CURLE_BAD_FUNCTION_ARGUMENT"
        default: return "CURLcode"
        }
    }
}
