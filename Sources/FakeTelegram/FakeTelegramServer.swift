import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A stand-in for the Telegram Bot API on a local port, for tests, `ops/dev` and benchmarks.
///
/// It answers `POST /bot<token>/sendMessage` and `/sendPhoto` (JSON bodies) and `getMe` as
/// Telegram does, records every message it accepts, and refuses the rest with Telegram's
/// `{"ok":false,"error_code":N,"description":"..."}`, checked in this order:
///
/// 1. Injected failures and slow answers (see ``Configuration``), before anything else, as from
///    a proxy in front: 500 with Telegram's JSON, or 502/504 with an nginx HTML page.
/// 2. 401 "Unauthorized" for a wrong token; 404 "Not Found" for another method or path.
/// 3. 400 for the body: not JSON, no `chat_id`, no text (or no photo), a text that is empty or
///    over 4096 (a caption over 1024), or markup `parse_mode` "HTML" or "Markdown" cannot parse.
///    Lengths count UTF-16 code units of the text as shown, markup removed and entities decoded,
///    as Telegram counts them. See `Markup` for the parser's rules.
/// 4. 400 "chat not found" for `unknownChats`, 403 for `blocked`.
/// 5. 429 "Too Many Requests: retry after N" with `parameters.retry_after` for the flood limits:
///    sliding windows, half-open (now - 1 s, now], counting accepted messages only.
/// 6. Then, for `gatewayAfterRecordRate` of the messages it accepts, 502 with the nginx page: the
///    message is recorded all the same, as when a proxy loses Telegram's answer.
///
/// Tests drive it through the methods here; other processes through the control endpoints:
///
/// - `GET /fake/messages[?chat_id=N][&since_id=M]`: the accepted messages, oldest first, as a JSON
///   array of `{"message_id","chat_id","method","text","photo","parse_mode","paid","at_ms",
///   "received_ms","user_agent"}` (`text` is the text or caption as sent; `at_ms` is the
///   acceptance, milliseconds since 1970), plus `"answered_status":502` on a message recorded and
///   then answered 502 (`gateway_after_record_rate`).
/// - `GET /fake/stats`: counts per answer, see ``Stats``.
/// - `POST /fake/reset`: forgets messages, counts, flood windows and pending `fail_next`.
/// - `GET /fake/config`: the behaviour now (never the token).
/// - `POST /fake/config`: changes it; a JSON object with any of `blocked` and `unknown_chats`
///   (arrays of chat ids, replacing the sets), `failure_rate`, `slow_rate` and
///   `gateway_after_record_rate` (0...1),
///   `slow_delay_ms`, `fail_next` and `fail_status` (the next N Bot API requests answer that 5xx).
///   Unknown fields are refused. Answers like `GET /fake/config`.
///
/// Run it as a `Service` in a `ServiceGroup`, or with ``withRunning(_:logger:_:)`` in a test.
public final class FakeTelegramServer: Service, Sendable {
    /// How the server listens and behaves. The limits are Telegram's published ones by default;
    /// tests lower them to keep flood windows quick to fill.
    public struct Configuration: Sendable {
        /// Address to bind. Loopback by default: the fake has no authentication of its own.
        public var host: String = "127.0.0.1"
        /// Port to bind; 0 takes any free port, which ``waitUntilListening()`` tells.
        public var port: Int = 0
        /// The bot token the path must carry, as in `/bot<token>/sendMessage`.
        public var token: String = "test-token"
        /// Accepted messages outside the paid lane in any sliding second, all chats together.
        public var globalPerSecond: Int = 30
        /// Accepted messages to one chat in any sliding second (groups too).
        public var perChatPerSecond: Int = 1
        /// Accepted messages to one group (a negative chat id) in any sliding minute.
        public var groupPerMinute: Int = 20
        /// Accepted `allow_paid_broadcast` messages in any sliding second; these do not count
        /// against `globalPerSecond`.
        public var paidPerSecond: Int = 1000
        /// Chats whose user blocked the bot: 403.
        public var blocked: Set<Int64> = []
        /// Chats the bot cannot see: 400 "chat not found".
        public var unknownChats: Set<Int64> = []
        /// Share of Bot API requests (0...1) that answer an injected 500 or 502 instead.
        public var failureRate: Double = 0
        /// Share of Bot API requests (0...1) that wait `slowDelay` before being handled.
        public var slowRate: Double = 0
        /// How long a slow request waits.
        public var slowDelay: Duration = .seconds(2)
        /// Share of sends (0...1) that would be accepted which are recorded as accepted, then
        /// answered 502 as if the proxy in front lost the answer: the sender retries a message
        /// Telegram has. Such messages carry ``Message/answeredStatus`` 502.
        public var gatewayAfterRecordRate: Double = 0
        /// How many accepted messages ``FakeTelegramServer/messages()`` keeps, the newest; the
        /// counts in ``Stats`` go on. Bounds the memory of long benchmarks and dev sessions.
        public var keepMessages: Int = 1_000_000

        public init(
            host: String = "127.0.0.1", port: Int = 0, token: String = "test-token", globalPerSecond: Int = 30,
            perChatPerSecond: Int = 1, groupPerMinute: Int = 20, paidPerSecond: Int = 1000, blocked: Set<Int64> = [],
            unknownChats: Set<Int64> = [], failureRate: Double = 0, slowRate: Double = 0,
            slowDelay: Duration = .seconds(2), keepMessages: Int = 1_000_000, gatewayAfterRecordRate: Double = 0
        ) {
            self.host = host
            self.port = port
            self.token = token
            self.globalPerSecond = globalPerSecond
            self.perChatPerSecond = perChatPerSecond
            self.groupPerMinute = groupPerMinute
            self.paidPerSecond = paidPerSecond
            self.blocked = blocked
            self.unknownChats = unknownChats
            self.failureRate = failureRate
            self.slowRate = slowRate
            self.slowDelay = slowDelay
            self.keepMessages = keepMessages
            self.gatewayAfterRecordRate = gatewayAfterRecordRate
        }
    }

    /// The server stopped, or failed to bind, before it listened.
    public struct NotListening: Error, CustomStringConvertible {
        public let description: String
    }

    let state: Mutex<FakeTelegramState>
    private let listening = Mutex(ListeningState())
    let startConfiguration: Configuration
    private let logger: Logger

    /// A server that listens once ``run()`` is called. `logger` gets Hummingbird's warnings;
    /// its info lines ("Server started") only at debug level and below.
    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "fake-telegram")) {
        self.startConfiguration = configuration
        self.state = Mutex(FakeTelegramState(configuration: configuration))
        self.logger = logger
    }

    // MARK: Running

    /// Listens until cancelled or until the service group shuts down gracefully.
    public func run() async throws {
        var appLogger = logger
        if appLogger.logLevel > .debug { appLogger.logLevel = max(appLogger.logLevel, .notice) }
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { [self] request, _ in
                await self.respond(to: request)
            },
            configuration: .init(
                address: .hostname(startConfiguration.host, port: startConfiguration.port), serverName: nil),
            onServerRunning: { [self] channel in
                self.didListen(port: channel.localAddress?.port ?? self.startConfiguration.port)
            },
            logger: appLogger
        )
        do {
            try await app.run()
        } catch {
            didStop(NotListening(description: "the fake Telegram server failed: \(error)"))
            throw error
        }
        didStop(NotListening(description: "the fake Telegram server stopped before it listened"))
    }

    /// The port the server listens on, once it does. Throws ``NotListening`` if it stopped or
    /// failed to bind first, `CancellationError` if the calling task is cancelled. Call ``run()``
    /// (or add the server to a running `ServiceGroup`) first: otherwise this waits for ever.
    public func waitUntilListening() async throws -> Int {
        let id = listening.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let ready: Result<Int, any Error>? = listening.withLock { state in
                    if let port = state.port { return .success(port) }
                    if let failure = state.failure { return .failure(failure) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            listening.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// `http://host:port`, the base URL to give a Bot API client instead of Telegram's, once
    /// the server listens.
    public func baseURL() async throws -> String {
        let port = try await waitUntilListening()
        let host = startConfiguration.host.contains(":") ? "[\(startConfiguration.host)]" : startConfiguration.host
        return "http://\(host):\(port)"
    }

    /// Runs a server with `configuration` while `body` runs, then stops it. `body` gets the
    /// server, listening, and its port.
    @discardableResult
    public static func withRunning<T: Sendable>(
        _ configuration: Configuration = Configuration(), logger: Logger = Logger(label: "fake-telegram"),
        _ body: @Sendable (FakeTelegramServer, Int) async throws -> T
    ) async throws -> T {
        let server = FakeTelegramServer(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await server.run()
                return nil
            }
            defer { group.cancelAll() }
            let port = try await server.waitUntilListening()
            return try await body(server, port)
        }
    }

    /// The bound port, once listening.
    func listeningPort() -> Int? {
        listening.withLock { $0.port }
    }

    private func didListen(port: Int) {
        let waiters = listening.withLock { state in
            state.port = port
            let waiters = state.waiters
            state.waiters = [:]
            return waiters
        }
        for waiter in waiters.values { waiter.resume(returning: port) }
    }

    private func didStop(_ failure: NotListening) {
        let waiters = listening.withLock { state in
            if state.port == nil { state.failure = failure }
            let waiters = state.waiters
            state.waiters = [:]
            return waiters
        }
        for waiter in waiters.values { waiter.resume(throwing: failure) }
    }

    // MARK: Reading and steering, for tests

    /// Every accepted message, oldest first (the newest `keepMessages` of them).
    public func messages() -> [Message] {
        state.withLock { $0.messages }
    }

    /// The accepted messages to one chat, oldest first.
    public func messages(chatID: Int64) -> [Message] {
        state.withLock { $0.messages.filter { $0.chatID == chatID } }
    }

    /// The most messages among `messages` that arrived within any one second: what a sender's
    /// pacing looked like from Telegram's side.
    public static func busiestSecond(of messages: [Message]) -> Int {
        let times = messages.map(\.at).sorted()
        var best = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= .seconds(1) { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    /// Counts per answer since the start or the last ``reset()``.
    public func stats() -> Stats {
        state.withLock { $0.stats }
    }

    /// The behaviour now: the start configuration with the changes made since.
    public func configuration() -> Configuration {
        state.withLock { $0.configuration }
    }

    /// Replaces the chats that answer 403.
    public func setBlocked(_ chatIDs: Set<Int64>) {
        state.withLock { $0.configuration.blocked = chatIDs }
    }

    /// Replaces the chats that answer 400 "chat not found".
    public func setUnknownChats(_ chatIDs: Set<Int64>) {
        state.withLock { $0.configuration.unknownChats = chatIDs }
    }

    /// Sets the share of requests (clamped to 0...1) that answer an injected 500 or 502.
    public func setFailureRate(_ rate: Double) {
        state.withLock { $0.configuration.failureRate = min(max(rate, 0), 1) }
    }

    /// Sets the share of sends (clamped to 0...1) that are recorded as accepted, then answered 502.
    public func setGatewayAfterRecordRate(_ rate: Double) {
        state.withLock { $0.configuration.gatewayAfterRecordRate = min(max(rate, 0), 1) }
    }

    /// Sets the share of requests (clamped to 0...1) that wait `delay` (or the configured
    /// `slowDelay`) before being handled.
    public func setSlowRate(_ rate: Double, delay: Duration? = nil) {
        state.withLock {
            $0.configuration.slowRate = min(max(rate, 0), 1)
            if let delay { $0.configuration.slowDelay = delay }
        }
    }

    /// The next `count` Bot API requests answer `status` (500...599; 502 and 504 with an HTML
    /// page, as a proxy would) and are not recorded.
    public func failNext(count: Int, status: Int = 502) {
        state.withLock { $0.failNext = FailNext(count: max(0, count), status: (500...599).contains(status) ? status : 502) }
    }

    /// Forgets the messages, the counts, the flood windows and pending ``failNext(count:status:)``
    /// failures. Message ids go on increasing.
    public func reset() {
        state.withLock { $0.reset() }
    }
}
