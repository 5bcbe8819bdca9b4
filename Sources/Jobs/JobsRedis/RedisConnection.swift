import CHiredis
import Foundation
import Jobs
import Metrics

/// One connection to Redis, owning the hiredis context and a thread of its own.
///
/// hiredis is blocking, and the cooperative pool has as many threads as cores (two here), so
/// every call runs on this connection's thread and callers await it through a continuation.
/// Requests that arrive while the thread is busy are written as one pipeline on its next turn,
/// so concurrent callers share round trips. A lost connection is re-established on the next
/// request, with backoff between failed attempts; requests during the backoff fail at once.
public final class RedisConnection: Sendable {
    private let core: Core

    /// The configuration this connection dials.
    public var configuration: RedisConfiguration { core.configuration }

    /// - Parameters:
    ///   - commandTimeout: the socket timeout for one reply; blocking commands must block for less than this.
    ///   - timesRoundTrips: records `thepred_redis_round_trip_seconds`; off for a connection that
    ///     blocks in its commands (XREADGROUP BLOCK), whose wait is not Redis's latency.
    public init(
        _ configuration: RedisConfiguration, name: String = "redis", commandTimeout: Duration = .seconds(10), timesRoundTrips: Bool = true
    ) {
        core = Core(configuration: configuration, commandTimeout: commandTimeout, name: name, timesRoundTrips: timesRoundTrips)
    }

    deinit { core.close() }

    /// Closes the connection once the requests already queued are answered.
    public func close() { core.close() }

    /// Sends commands as one pipeline and returns one reply per command, error replies included.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RESPValue] {
        if commands.isEmpty { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            core.submit(Request(commands: commands, continuation: continuation))
        }
    }

    /// Sends one command; an error reply is thrown as `RedisError`.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RESPValue {
        try await pipeline([command])[0].throwingError()
    }

    /// Sends one command given as arguments; an error reply is thrown as `RedisError`.
    @discardableResult
    public func send(_ args: any RESPArgument...) async throws -> RESPValue {
        try await send(RedisCommand(args))
    }
}

extension RedisConnection {
    fileprivate final class Core: @unchecked Sendable {
        let configuration: RedisConfiguration
        let commandTimeout: Duration
        private var thread: DedicatedThread<Request>!
        // Owned by the connection thread only.
        private var context: UnsafeMutablePointer<redisContext>?
        private var backoff: Duration = .zero
        private var nextAttempt: ContinuousClock.Instant?
        private var lastConnectError = ""
        private var everConnected = false
        // One sample per pipeline written and read, not per command: a round trip carries many.
        private let roundTrip: Timer?
        private let reconnects: Counter

        init(configuration: RedisConfiguration, commandTimeout: Duration, name: String, timesRoundTrips: Bool) {
            self.configuration = configuration
            self.commandTimeout = commandTimeout
            roundTrip =
                timesRoundTrips
                ? Timer(label: "thepred_redis_round_trip_seconds", dimensions: [("connection", name)], preferredDisplayUnit: .seconds) : nil
            reconnects = Counter(label: "thepred_redis_reconnects_total", dimensions: [("connection", name)])
            // Requests that arrive together go out as one pipeline.
            thread = DedicatedThread(name: name, process: { [self] in process($0) }, finish: { [self] in dropConnection() })
        }

        func submit(_ request: Request) {
            if !thread.submit(request) {
                request.continuation.resume(throwing: RedisError(code: .closed, message: "connection closed"))
            }
        }

        func close() { thread.close() }

        private func process(_ batch: [Request]) {
            guard let ctx = connectIfNeeded() else {
                let error = RedisError.connection(
                    "\(configuration.host):\(configuration.port): \(lastConnectError)")
                for request in batch { request.continuation.resume(throwing: error) }
                return
            }
            for request in batch {
                for command in request.commands { append(command, to: ctx) }
            }
            let started = ContinuousClock.now
            defer { roundTrip?.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
            var index = 0
            while index < batch.count {
                let request = batch[index]
                var replies: [RESPValue] = []
                replies.reserveCapacity(request.commands.count)
                for _ in request.commands {
                    var raw: UnsafeMutableRawPointer?
                    if redisGetReply(ctx, &raw) != REDIS_OK || raw == nil {
                        let timedOut = ctx.pointee.err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
                        var message = ctx.pointee.err != 0 ? errorString(ctx) : "no reply"
                        dropConnection()
                        if timedOut {
                            // A server that accepts connections but does not answer (hung, or
                            // stopped with SIGSTOP). Without a backoff every request queued behind
                            // this batch would reconnect and wait its own full timeout.
                            message = "no reply within \(commandTimeout)"
                            connectFailed(message)
                        }
                        let error = RedisError.connection(message)
                        for failed in batch[index...] { failed.continuation.resume(throwing: error) }
                        return
                    }
                    replies.append(Self.convert(raw!.assumingMemoryBound(to: redisReply.self)))
                    freeReplyObject(raw)
                }
                request.continuation.resume(returning: replies)
                index += 1
            }
        }

        private func append(_ command: RedisCommand, to ctx: UnsafeMutablePointer<redisContext>) {
            command.bytes.withUnsafeBufferPointer { buffer in
                let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: command.lengths.count) { argv in
                    var offset = 0
                    for (i, length) in command.lengths.enumerated() {
                        argv[i] = (base + offset).assumingMemoryBound(to: CChar.self)
                        offset += length
                    }
                    command.lengths.withUnsafeBufferPointer { lengths in
                        _ = redisAppendCommandArgv(ctx, Int32(command.lengths.count), argv.baseAddress, lengths.baseAddress)
                    }
                }
            }
        }

        private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
            let r = reply.pointee
            switch r.type {
            case REDIS_REPLY_STRING, REDIS_REPLY_STATUS:
                guard let str = r.str else { return .bytes([]) }
                return .bytes(Array(UnsafeRawBufferPointer(start: str, count: r.len)))
            case REDIS_REPLY_INTEGER:
                return .integer(r.integer)
            case REDIS_REPLY_ARRAY:
                var items: [RESPValue] = []
                items.reserveCapacity(r.elements)
                for i in 0..<r.elements {
                    if let element = r.element[i] { items.append(convert(element)) } else { items.append(.null) }
                }
                return .array(items)
            case REDIS_REPLY_ERROR:
                guard let str = r.str else { return .error("unknown error") }
                return .error(String(decoding: UnsafeRawBufferPointer(start: str, count: r.len), as: UTF8.self))
            default:
                return .null
            }
        }

        private func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
            withUnsafeBytes(of: ctx.pointee.errstr) { raw in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
        }

        private func dropConnection() {
            if let context { redisFree(context) }
            context = nil
        }

        private func connectIfNeeded() -> UnsafeMutablePointer<redisContext>? {
            if let context { return context }
            if let nextAttempt, ContinuousClock.now < nextAttempt { return nil }
            let timeout = configuration.connectTimeout.timeval
            guard let ctx = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeout) else {
                connectFailed("cannot allocate a connection")
                return nil
            }
            if ctx.pointee.err != 0 {
                connectFailed(errorString(ctx))
                redisFree(ctx)
                return nil
            }
            _ = redisSetTimeout(ctx, commandTimeout.timeval)
            var handshake: [RedisCommand] = []
            if let password = configuration.password {
                if let user = configuration.username {
                    handshake.append(RedisCommand("AUTH", user, password))
                } else {
                    handshake.append(RedisCommand("AUTH", password))
                }
            }
            if configuration.database != 0 { handshake.append(RedisCommand("SELECT", configuration.database)) }
            for command in handshake {
                append(command, to: ctx)
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(ctx, &raw) == REDIS_OK, let raw else {
                    connectFailed(errorString(ctx))
                    redisFree(ctx)
                    return nil
                }
                let reply = Self.convert(raw.assumingMemoryBound(to: redisReply.self))
                freeReplyObject(raw)
                if case .error(let message) = reply {
                    connectFailed("\(command.name) failed: \(message)")
                    redisFree(ctx)
                    return nil
                }
            }
            context = ctx
            if everConnected { reconnects.increment() }
            everConnected = true
            backoff = .zero
            nextAttempt = nil
            return ctx
        }

        private func connectFailed(_ message: String) {
            lastConnectError = message
            backoff = backoff == .zero ? .milliseconds(50) : min(backoff * 2, configuration.maxReconnectBackoff)
            nextAttempt = ContinuousClock.now + backoff
        }
    }
}
