import CCurl
import Foundation
import Jobs
import Synchronization

/// The real Bot API client: JSON POSTs through libcurl over a fixed set of kept-alive connections.
///
/// Each connection is one curl easy handle owned by a thread of its own, so blocking curl calls
/// never run on Swift's cooperative pool and `connections` requests really run in parallel. A send
/// goes to the connection with the fewest requests queued. A send runs until Telegram answers or
/// `timeout` passes; cancelling the calling task drops a request still queued (it is never sent)
/// but does not cut a started one short. A request whose `answerBy` its timeout could overrun is
/// not started.
///
/// The token is part of every request URL and appears nowhere else: not in errors, not in
/// `description`, not in logs.
public final class CurlTelegramClient: TelegramBotAPI, Sendable, CustomStringConvertible {
    /// Names the process, so a duplicate seen at the Bot API can be traced to the worker that sent it.
    static let userAgent = "thepred-jobs (libcurl; pid \(getpid()))"
    /// Where and how to reach the Bot API.
    public struct Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// Scheme and host, without the `/bot<token>` part.
        public var apiBase: String
        /// The bot token; never printed.
        public var token: String
        /// Connections (threads) to keep open; at least 1.
        public var connections: Int
        /// Time to set up TCP and TLS.
        public var connectTimeout: Duration
        /// Time for a whole request, connecting included.
        public var timeout: Duration
        /// An HTTP proxy (`http://host:port`, credentials allowed) reached with CONNECT; nil leaves
        /// libcurl to the environment (`https_proxy`, `no_proxy`). Never printed: it may hold a password.
        public var proxy: String?

        public init(
            apiBase: String = "https://api.telegram.org", token: String, connections: Int = 8,
            connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(15), proxy: String? = nil
        ) {
            self.proxy = proxy
            self.apiBase = apiBase
            self.token = token
            self.connections = connections
            self.connectTimeout = connectTimeout
            self.timeout = timeout
        }

        public var description: String {
            "Configuration(apiBase: \(apiBase), token: <redacted>, connections: \(connections), "
                + "connectTimeout: \(connectTimeout), timeout: \(timeout), proxy: \(proxy == nil ? "none" : "<redacted>"))"
        }

        public var debugDescription: String { description }

        // `dump` and the debugger would print the token otherwise.
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "apiBase": apiBase, "token": "<redacted>", "connections": connections,
                    "connectTimeout": connectTimeout, "timeout": timeout, "proxy": proxy == nil ? "none" : "<redacted>",
                ])
        }
    }

    private let connections: [CurlConnection]
    /// Requests queued or running per connection.
    private let load: Mutex<[Int]>
    public let description: String

    public init(configuration: Configuration) {
        let count = max(1, configuration.connections)
        var base = configuration.apiBase
        while base.hasSuffix("/") { base.removeLast() }
        let settings = CurlConnection.Settings(
            urlPrefix: "\(base)/bot\(configuration.token)/",
            connectTimeoutMS: Int(max(1, configuration.connectTimeout.milliseconds)),  // curl reads 0 as no timeout
            timeoutMS: Int(max(1, configuration.timeout.milliseconds)), proxy: configuration.proxy)
        connections = (0..<count).map { CurlConnection(settings: settings, name: "telegram-\($0)") }
        load = Mutex(Array(repeating: 0, count: count))
        description = "CurlTelegramClient(apiBase: \(base), token: <redacted>, connections: \(count))"
    }

    deinit { shutdown() }

    /// Sends one message and returns Telegram's answer, whatever its HTTP status. Throws
    /// `TelegramTransportError` only when no HTTP answer came (or after `shutdown`).
    public func send(_ message: TelegramOutgoing) async throws -> TelegramAnswer {
        let index = load.withLock { load in
            let i = load.indices.min { load[$0] < load[$1] }!
            load[i] += 1
            return i
        }
        defer { load.withLock { $0[index] -= 1 } }
        return try await connections[index].send(
            method: message.method, body: message.jsonBody(), answerBy: message.answerBy, sendAt: message.sendAt,
            latestStart: message.latestStart)
    }

    /// Closes the connections once the requests already queued are done. Later sends throw.
    public func shutdown() {
        for connection in connections { connection.close() }
    }
}
