import ArgumentParser
import FakeTelegram
import Foundation
import Logging
import ServiceLifecycle

struct FakeTelegramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-telegram",
        abstract: "Serve a fake Telegram Bot API on loopback until SIGTERM or SIGINT, for ops/dev, tests and benchmarks.",
        discussion: """
            Answers POST /bot<token>/sendMessage, /sendPhoto and getMe as Telegram does: its answer \
            format, 401 for a wrong token, 404 for other methods, 400 for a missing chat_id, an empty or \
            too long text (4096 UTF-16 units after markup; captions 1024) or markup Telegram cannot parse \
            (parse_mode HTML or Markdown), 403 for blocked chats, 400 "chat not found" for unknown ones, and \
            429 with retry_after for its flood limits: --global-rate messages per sliding second over all \
            chats, --chat-rate per chat, --group-rate per minute per group (negative chat id), and \
            --paid-rate per second for messages sent with allow_paid_broadcast, which skip the global \
            limit. Only accepted messages are recorded and count against the limits.

            Control endpoints, for scripts and benchmarks:
              GET  /fake/messages    accepted messages, oldest first, as JSON objects
                   with message_id, chat_id, method, text, photo, parse_mode, paid,
                   at_ms; ?chat_id=N keeps one chat, ?since_id=M the later ones
              GET  /fake/stats       counts per answer: accepted, paid_accepted,
                   too_many_requests (too_many_per_chat of them for one chat's
                   limit), forbidden, bad_request, unauthorized, not_found,
                   server_errors, slowed, total
              POST /fake/reset       forgets messages, counts, flood windows and
                   pending failures
              GET  /fake/config      the behaviour now (never the token)
              POST /fake/config      changes it; any of blocked, unknown_chats
                   (arrays of chat ids), failure_rate, slow_rate (0...1),
                   slow_delay_ms, fail_next (count), fail_status (5xx)

            Example:
              thepred fake-telegram --port 8081 --blocked 42 &
              curl -s localhost:8081/bottest-token/sendMessage \\
                -H 'content-type: application/json' \\
                -d '{"chat_id":1,"text":"<b>hi</b>","parse_mode":"HTML"}'
              curl -s localhost:8081/fake/messages
            """)

    @Option(help: "Address to bind. Anything but loopback exposes a server without authentication.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free one, printed in the start line.")
    var port = 8081

    // No default in the declaration: --help prints defaults, and this one may come from the environment.
    @Option(help: "The bot token the path must carry, /bot<token>/sendMessage. Env: TELEGRAM_BOT_TOKEN. Default: test-token.")
    var token: String?

    @Option(help: "A file holding the bot token (trailing newline ignored). Env: TELEGRAM_BOT_TOKEN_FILE.")
    var tokenFile: String?

    /// As the worker finds its token, so both read the same variables; test-token without any.
    private func resolvedToken() throws -> String {
        let found = try Secret.resolve(option: "token", argument: token, file: tokenFile, env: "TELEGRAM_BOT_TOKEN").value
        return token == nil && found.isEmpty ? "test-token" : found
    }

    @Option(help: "Messages per sliding second over all chats, outside the paid lane.")
    var globalRate = 30

    @Option(help: "Messages per sliding second to one chat.")
    var chatRate = 1

    @Option(help: "Messages per sliding minute to one group (negative chat id).")
    var groupRate = 20

    @Option(help: "Messages per sliding second sent with allow_paid_broadcast.")
    var paidRate = 1000

    @Option(help: "Comma-separated chat ids that blocked the bot: 403.")
    var blocked = ""

    @Option(help: "Comma-separated chat ids the bot cannot see: 400 \"chat not found\".")
    var unknown = ""

    @Option(help: "Share of Bot API requests, 0...1, that answer an injected 500 or 502 and are not recorded.")
    var failureRate = 0.0

    @Option(help: "Share of Bot API requests, 0...1, that wait --slow-delay-ms before being handled.")
    var slowRate = 0.0

    @Option(help: "How long a slow request waits, in milliseconds.")
    var slowDelayMs = 2_000

    @Option(help: "Accepted messages kept for /fake/messages, the newest; the counts go on.")
    var keepMessages = 1_000_000

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Env: LOG_LEVEL.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be within 0...65535") }
        let resolved = try resolvedToken()
        guard !resolved.isEmpty, !resolved.contains("/") else { throw ValidationError("--token must be non-empty, without '/'") }
        for (name, rate) in [
            ("--global-rate", globalRate), ("--chat-rate", chatRate), ("--group-rate", groupRate), ("--paid-rate", paidRate),
        ] {
            guard rate >= 1 else { throw ValidationError("\(name) must be at least 1") }
        }
        guard (0...1).contains(failureRate) else { throw ValidationError("--failure-rate must be within 0...1") }
        guard (0...1).contains(slowRate) else { throw ValidationError("--slow-rate must be within 0...1") }
        guard slowDelayMs >= 0 else { throw ValidationError("--slow-delay-ms must not be negative") }
        guard keepMessages >= 1 else { throw ValidationError("--keep-messages must be at least 1") }
        _ = try chatIDs(blocked, option: "--blocked")
        _ = try chatIDs(unknown, option: "--unknown")
    }

    func run() async throws {
        var logger = Logger(label: "thepred.fake-telegram")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let configuration = FakeTelegramServer.Configuration(
            host: host, port: port, token: try resolvedToken(), globalPerSecond: globalRate, perChatPerSecond: chatRate,
            groupPerMinute: groupRate, paidPerSecond: paidRate, blocked: try chatIDs(blocked, option: "--blocked"),
            unknownChats: try chatIDs(unknown, option: "--unknown"), failureRate: failureRate, slowRate: slowRate,
            slowDelay: .milliseconds(slowDelayMs), keepMessages: keepMessages)
        let server = FakeTelegramServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let startLogger = logger
        let limits = "global \(globalRate)/s, paid \(paidRate)/s, per chat \(chatRate)/s, group \(groupRate)/min"
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                // A bind failure ends the group with its own error; this line is only for success.
                guard let url = try? await server.baseURL() else { return }
                startLogger.info("fake Telegram Bot API listening on \(url) (\(limits))")
            }
            try await tasks.waitForAll()
        }
    }

    private func chatIDs(_ list: String, option: String) throws -> Set<Int64> {
        var ids: Set<Int64> = []
        for item in list.split(separator: ",") {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let id = Int64(trimmed) else { throw ValidationError("\(option) wants chat ids like 1,2,-100; got '\(trimmed)'") }
            ids.insert(id)
        }
        return ids
    }
}
