import Foundation
import Synchronization
import Telegram
import Testing

@Suite("CurlTelegramClient", .timeLimit(.minutes(1)))
struct CurlTelegramClientTests {
    static let token = "123456789:AAFake-Secret_Token-do-not-print"

    static func client(
        port: UInt16, connections: Int = 2, timeout: Duration = .seconds(5)
    ) -> CurlTelegramClient {
        CurlTelegramClient(
            configuration: .init(
                apiBase: "http://127.0.0.1:\(port)/", token: token, connections: connections,
                connectTimeout: .seconds(2), timeout: timeout))
    }

    /// Sends `message` to a server that answers every request with `response`.
    static func exchange(
        _ message: TelegramOutgoing, _ response: LocalHTTPServer.Response
    ) async throws -> (TelegramAnswer, [LocalHTTPServer.Request]) {
        let server = try LocalHTTPServer { _ in response }
        defer { server.stop() }
        let client = Self.client(port: server.port)
        defer { client.shutdown() }
        let answer = try await client.send(message)
        return (answer, server.requests)
    }

    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("sendMessage: POSTs the JSON body to /bot<token>/sendMessage and decodes message_id")
    func sendMessage() async throws {
        let (answer, requests) = try await Self.exchange(
            TelegramOutgoing(chatID: 7, text: "héllo <b>you</b>", paid: true),
            .init(status: 200, body: #"{"ok":true,"result":{"message_id":42,"chat":{"id":7}}}"#))
        #expect(answer == TelegramAnswer(httpStatus: 200, ok: true, messageID: 42))
        let request = try #require(requests.first)
        #expect(requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.path == "/bot\(Self.token)/sendMessage")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["user-agent"]?.contains("thepred") == true)
        let body = try Self.json(request.body)
        #expect(body["chat_id"] as? Int == 7)
        #expect(body["text"] as? String == "héllo <b>you</b>")
        #expect(body["parse_mode"] as? String == "HTML")
        #expect(body["allow_paid_broadcast"] as? Bool == true)
    }

    @Test("sendPhoto: photo and caption go to /bot<token>/sendPhoto")
    func sendPhoto() async throws {
        let (answer, requests) = try await Self.exchange(
            TelegramOutgoing(chatID: -100_123, text: "caption", parseMode: "Markdown", photoURL: "https://example.com/p.png"),
            .init(status: 200, body: #"{"ok":true,"result":{"message_id":9}}"#))
        #expect(answer.messageID == 9)
        let request = try #require(requests.first)
        #expect(request.path == "/bot\(Self.token)/sendPhoto")
        let body = try Self.json(request.body)
        #expect(body["chat_id"] as? Int == -100_123)
        #expect(body["photo"] as? String == "https://example.com/p.png")
        #expect(body["caption"] as? String == "caption")
        #expect(body["parse_mode"] as? String == "Markdown")
        #expect(body["text"] == nil)
        #expect(body["allow_paid_broadcast"] == nil)
    }

    @Test("a body over 1 KiB goes at once, without Expect: 100-continue")
    func largeBody() async throws {
        let text = String(repeating: "x", count: 3000)
        let (answer, requests) = try await Self.exchange(
            TelegramOutgoing(chatID: 1, text: text), .init(status: 200, body: #"{"ok":true,"result":{"message_id":1}}"#))
        #expect(answer.ok)
        let request = try #require(requests.first)
        #expect(request.headers["expect"] == nil)
        #expect(try Self.json(request.body)["text"] as? String == text)
    }

    @Test("400: ok false with error_code and description")
    func badRequest() async throws {
        let (answer, _) = try await Self.exchange(
            TelegramOutgoing(chatID: 1, text: "x"),
            .init(status: 400, body: #"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#))
        #expect(answer == TelegramAnswer(httpStatus: 400, ok: false, errorCode: 400, description: "Bad Request: chat not found"))
    }

    @Test("429: retry_after from parameters")
    func tooManyRequests() async throws {
        let (answer, _) = try await Self.exchange(
            TelegramOutgoing(chatID: 1, text: "x"),
            .init(
                status: 429,
                body: #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#))
        #expect(answer.httpStatus == 429)
        #expect(!answer.ok)
        #expect(answer.errorCode == 429)
        #expect(answer.retryAfter == 7)
    }

    @Test("502 with a non-JSON body: an answer, not an error, with the HTTP status as error code")
    func badGateway() async throws {
        let (answer, _) = try await Self.exchange(
            TelegramOutgoing(chatID: 1, text: "x"),
            .init(status: 502, body: "<html><body>502 Bad Gateway</body></html>", contentType: "text/html"))
        #expect(answer.httpStatus == 502)
        #expect(!answer.ok)
        #expect(answer.errorCode == 502)
        #expect(answer.description?.hasPrefix("HTTP 502") == true)
    }

    @Test("connection refused throws .connection, and the message names the method but not the token")
    func connectionRefused() async throws {
        let closed = try LocalHTTPServer.closedPort()
        defer { close(closed.fd) }
        let client = Self.client(port: closed.port)
        defer { client.shutdown() }
        let error = try await #require(throws: TelegramTransportError.self) {
            try await client.send(TelegramOutgoing(chatID: 1, text: "x"))
        }
        #expect(error.code == .connection)
        #expect(!error.mayHaveArrived, "nothing reached the server")
        #expect(error.message.contains("sendMessage"))
        #expect(error.message.contains("CURLE_COULDNT_CONNECT"))
        #expect(!"\(error)".contains(Self.token))
        #expect(!"\(error)".contains("bot123456789"))
    }

    @Test("a proxy that refuses CONNECT: not sent, so not ambiguous, and the message never left (issue 26, finding 4)")
    func proxyRefusesConnect() async throws {
        let bot = try LocalHTTPServer { _ in .init(status: 200, body: #"{"ok":true,"result":{"message_id":1}}"#) }
        defer { bot.stop() }
        let proxy = try LocalHTTPServer { _ in .init(status: 403, body: "egress denied", contentType: "text/plain") }
        defer { proxy.stop() }
        let client = CurlTelegramClient(
            configuration: .init(
                apiBase: "http://127.0.0.1:\(bot.port)", token: Self.token, connections: 1, connectTimeout: .seconds(2),
                timeout: .seconds(5), proxy: "http://127.0.0.1:\(proxy.port)"))
        defer { client.shutdown() }
        let error = try await #require(throws: TelegramTransportError.self) {
            try await client.send(TelegramOutgoing(chatID: 1, text: "x"))
        }
        #expect(!error.mayHaveArrived, "nothing went past the proxy: \(error)")
        #expect(error.code == .connection)
        #expect(!"\(error)".contains(Self.token))
        #expect(proxy.requests.map(\.method) == ["CONNECT"])
        #expect(bot.requests.isEmpty)
    }

    @Test("a server that never answers: .timeout after the configured timeout, without the token")
    func timeout() async throws {
        let server = try LocalHTTPServer { _ in nil }
        defer { server.stop() }
        let client = Self.client(port: server.port, timeout: .milliseconds(300))
        defer { client.shutdown() }
        let start = ContinuousClock.now
        let error = try await #require(throws: TelegramTransportError.self) {
            try await client.send(TelegramOutgoing(chatID: 1, text: "x", photoURL: "https://example.com/p.png"))
        }
        let elapsed = ContinuousClock.now - start
        #expect(error.code == .timeout)
        #expect(error.mayHaveArrived, "the server had the whole request: the message may have been delivered")
        #expect(error.message.contains("sendPhoto"))
        #expect(!"\(error)".contains(Self.token))
        #expect(elapsed >= .milliseconds(250))
        #expect(elapsed < .seconds(5))
        #expect(server.requests.count == 1)
    }

    @Test("200 concurrent sends over 8 connections all complete, in parallel, over kept-alive connections")
    func concurrentKeepAlive() async throws {
        // Each answer takes 10 ms, so parallel connections show up as requests in flight at once.
        let server = try LocalHTTPServer { request in
            let chat = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?["chat_id"] as? Int ?? -1
            return .init(status: 200, body: #"{"ok":true,"result":{"message_id":\#(chat)}}"#, delay: .milliseconds(10))
        }
        defer { server.stop() }
        let client = Self.client(port: server.port, connections: 8)
        defer { client.shutdown() }
        let ids = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for i in 0..<200 {
                group.addTask { try await client.send(TelegramOutgoing(chatID: Int64(i), text: "m\(i)")).messageID }
            }
            var ids: [Int64] = []
            for try await id in group { ids.append(id ?? -1) }
            return ids
        }
        #expect(ids.sorted() == (0..<200).map(Int64.init))
        #expect(server.requests.count == 200)
        // One connection per easy handle, reused: far fewer TCP connections than requests.
        #expect(server.connectionCount <= 8)
        // Swift's cooperative pool has 2 threads on this machine; more in flight means curl runs elsewhere.
        #expect(server.maxInFlight >= 4)
    }

    @Test("a kept-alive connection the server closed is replaced, and the send succeeds")
    func serverClosesConnection() async throws {
        let server = try LocalHTTPServer { _ in .init(status: 200, body: #"{"ok":true,"result":{"message_id":1}}"#, close: true) }
        defer { server.stop() }
        let client = Self.client(port: server.port, connections: 1)
        defer { client.shutdown() }
        for _ in 0..<3 {
            #expect(try await client.send(TelegramOutgoing(chatID: 1, text: "x")).ok)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.connectionCount == 3)
    }

    @Test("description, Configuration description and dump redact the token")
    func redaction() {
        let configuration = CurlTelegramClient.Configuration(token: Self.token)
        let client = CurlTelegramClient(configuration: configuration)
        defer { client.shutdown() }
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(client)", "\(configuration)", String(reflecting: configuration), dumped] {
            #expect(!text.contains(Self.token))
            #expect(!text.contains("AAFake"))
            #expect(text.contains("<redacted>"))
        }
        #expect("\(client)".contains("https://api.telegram.org"))
    }

    @Test("after shutdown, sends throw instead of hanging")
    func sendAfterShutdown() async throws {
        let client = Self.client(port: 9)
        client.shutdown()
        let error = try await #require(throws: TelegramTransportError.self) {
            try await client.send(TelegramOutgoing(chatID: 1, text: "x"))
        }
        #expect(error.code == .notSent && !error.mayHaveArrived)
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 for these tests: a thread per TCP connection reads
/// requests in a keep-alive loop and writes what `respond` returns (nil: never answers).
/// Every wait polls with a short timeout, so `stop` ends all threads within ~50 ms.
final class LocalHTTPServer: Sendable {
    struct Request: Sendable {
        let method: String
        let path: String
        /// Lower-cased names.
        let headers: [String: String]
        let body: [UInt8]
    }

    struct Response: Sendable {
        var status: Int
        var body: String
        var contentType = "application/json"
        var delay: Duration = .zero
        /// Close the connection after answering, without saying so, as idle servers do.
        var close = false
    }

    private struct State {
        var requests: [Request] = []
        var connections = 0
        var inFlight = 0
        var maxInFlight = 0
        var stopped = false
    }

    let port: UInt16
    private let state = Mutex(State())
    private let respond: @Sendable (Request) -> Response?

    init(respond: @escaping @Sendable (Request) -> Response?) throws {
        self.respond = respond
        let (listener, port) = try Self.bindLoopback()
        guard listen(listener, 128) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        self.port = port
        Thread { [self] in acceptLoop(listener) }.start()
    }

    deinit { stop() }

    func stop() { state.withLock { $0.stopped = true } }

    var requests: [Request] { state.withLock { $0.requests } }
    var connectionCount: Int { state.withLock { $0.connections } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    /// A port bound but not listening: connecting to it is refused. Close `fd` when done.
    static func closedPort() throws -> (port: UInt16, fd: Int32) {
        let (fd, port) = try bindLoopback()
        return (port, fd)
    }

    private static func bindLoopback() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private var stopped: Bool { state.withLock { $0.stopped } }

    /// Waits up to 50 ms for `fd` to be readable.
    private static func readable(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 50) > 0
    }

    private func acceptLoop(_ listener: Int32) {
        defer { close(listener) }
        while !stopped {
            guard Self.readable(listener) else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            state.withLock { $0.connections += 1 }
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        while let request = readRequest(fd, &buffer) {
            state.withLock {
                $0.requests.append(request)
                $0.inFlight += 1
                $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
            }
            defer { state.withLock { $0.inFlight -= 1 } }
            guard let response = respond(request) else {
                // Never answer: hold the connection until the client gives up or the test ends.
                while !stopped {
                    if Self.readable(fd) && !fill(fd, &buffer) { return }
                }
                return
            }
            if response.delay > .zero { Thread.sleep(forTimeInterval: response.delay / .seconds(1)) }
            let body = Array(response.body.utf8)
            let head =
                "HTTP/1.1 \(response.status) Status\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(body.count)\r\n\r\n"
            let bytes = Array(head.utf8) + body
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
            if response.close { return }
        }
    }

    /// Reads more bytes into `buffer`; false at end of stream or on error.
    private func fill(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer += chunk[..<n]
        return true
    }

    /// The next request on the connection; nil when the client closed it or the server stopped.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if headEnd == nil, let range = buffer.firstRange(of: separator) { headEnd = range.upperBound }
            if let headEnd {
                let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                let requestLine = lines.removeFirst().split(separator: " ")
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if buffer.count >= headEnd + length {
                    let body = Array(buffer[headEnd..<(headEnd + length)])
                    buffer.removeFirst(headEnd + length)
                    return Request(
                        method: String(requestLine.first ?? ""), path: String(requestLine.dropFirst().first ?? ""),
                        headers: headers, body: body)
                }
            }
            if stopped { return nil }
            if Self.readable(fd) && !fill(fd, &buffer) { return nil }
        }
    }
}
