import ArgumentParser
import Foundation
import Game
import Jobs
import JobsRedis
import JobsWorker
import Logging
import Producers
import ServiceLifecycle
import Telegram
import ThePredKinds
import ThePredRedis

/// The Bot API client and the fleet's send limits.
struct TelegramOptions: ParsableArguments {
    @Option(name: .long, help: "Bot API base URL. Env: TELEGRAM_API_BASE.")
    var telegramAPIBase: String = ProcessInfo.processInfo.environment["TELEGRAM_API_BASE"] ?? "https://api.telegram.org"

    @Option(
        name: .customLong("telegram-bot-token"),
        help:
            "Bot token; without one the worker leaves the telegram queues alone. Shows in ps: prefer the env or the file. Never logged. Env: TELEGRAM_BOT_TOKEN."
    )
    var telegramBotTokenOption: String?

    @Option(
        name: .customLong("telegram-bot-token-file"),
        help: "A file holding the bot token (trailing newline ignored). Env: TELEGRAM_BOT_TOKEN_FILE.")
    var telegramBotTokenFile: String?

    func botTokenSecret() throws -> Secret {
        try Secret.resolve(
            option: "telegram-bot-token", argument: telegramBotTokenOption, file: telegramBotTokenFile, env: "TELEGRAM_BOT_TOKEN")
    }
    /// The token as `validate` read it, once, before the worker starts: a file read again later
    /// could fail or hold another token, and the worker would go on without Telegram or with a
    /// token it never checked. Not an argument: `CodingKeys` leaves it out of parsing.
    private(set) var botToken: Secret?
    var telegramBotToken: String { botToken?.value ?? "" }
    /// What the worker should warn about at start.
    var warnings: [String] {
        botToken?.fromArgument == true ? [Secret.warning(option: "telegram-bot-token", env: "TELEGRAM_BOT_TOKEN")] : []
    }

    /// Every option; ArgumentParser checks in debug builds that none is missing.
    enum CodingKeys: String, CodingKey {
        case telegramAPIBase, telegramBotTokenOption, telegramBotTokenFile, telegramRate, telegramPaidRate, telegramGroupRate
        case telegramWeights, telegramInteractiveShare, telegramConnections, telegramProxy, telegramTimeout
    }

    @Option(name: .long, help: "Messages per second for the whole fleet (free lane). Env: TELEGRAM_RATE.")
    var telegramRate: Int = Int(ProcessInfo.processInfo.environment["TELEGRAM_RATE"] ?? "") ?? 30

    @Option(name: .long, help: "Messages per second in the paid-broadcast lane. Env: TELEGRAM_PAID_RATE.")
    var telegramPaidRate: Int = Int(ProcessInfo.processInfo.environment["TELEGRAM_PAID_RATE"] ?? "") ?? 1000

    @Option(name: .long, help: "Messages per minute to one group chat.")
    var telegramGroupRate: Int = 20

    @Option(
        name: .long,
        help: """
            How results and bulk messages share the free lane after interactive ones, as weights. \
            Env: TELEGRAM_WEIGHTS.
            """)
    var telegramWeights: String = ProcessInfo.processInfo.environment["TELEGRAM_WEIGHTS"] ?? "results=2,bulk=1"

    @Option(
        name: .long,
        help:
            "The most of the free lane interactive messages take while results or bulk have work (0 < s <= 1). Env: TELEGRAM_INTERACTIVE_SHARE."
    )
    var telegramInteractiveShare: Double = Double(ProcessInfo.processInfo.environment["TELEGRAM_INTERACTIVE_SHARE"] ?? "") ?? 0.8

    @Option(name: .long, help: "Keep-alive HTTP connections to the Bot API, each on its own thread. Env: TELEGRAM_CONNECTIONS.")
    var telegramConnections: Int = Int(ProcessInfo.processInfo.environment["TELEGRAM_CONNECTIONS"] ?? "") ?? 8

    @Option(
        name: .long,
        help:
            "An HTTP proxy for the Bot API (http://[user:password@]host:port), reached with CONNECT; unset, libcurl reads https_proxy and no_proxy. Env: TELEGRAM_PROXY."
    )
    var telegramProxy: String? = ProcessInfo.processInfo.environment["TELEGRAM_PROXY"].flatMap { $0.isEmpty ? nil : $0 }

    @Option(name: .long, help: "Seconds a Bot API request may take in all (connecting takes at most 5).")
    var telegramTimeout: Int = 15

    mutating func validate() throws {
        guard telegramRate >= 1, telegramPaidRate >= 1, telegramGroupRate >= 1 else {
            throw ValidationError("Telegram rates must be at least 1")
        }
        _ = try weights()
        guard telegramInteractiveShare > 0 && telegramInteractiveShare <= 1 else {
            throw ValidationError("--telegram-interactive-share must be within (0, 1]")
        }
        guard (1...256).contains(telegramConnections) else { throw ValidationError("--telegram-connections must be within 1...256") }
        // A send must be answered within 27 s of its delivery-log claim and may first wait up to 3 s
        // for a slot; a longer request timeout would never start.
        guard (1...20).contains(telegramTimeout) else { throw ValidationError("--telegram-timeout must be within 1...20 s") }
        let token = try botTokenSecret()
        if token.value.contains("/") || token.value.contains(" ") {
            throw ValidationError("--telegram-bot-token looks wrong (it contains / or a space)")
        }
        botToken = token
    }

    /// The Bot API client, or nil without a token (none given, or `validate` not run).
    func client() -> CurlTelegramClient? {
        let token = telegramBotToken
        guard !token.isEmpty else { return nil }
        return CurlTelegramClient(
            configuration: .init(
                apiBase: telegramAPIBase, token: token, connections: telegramConnections, connectTimeout: .seconds(5),
                timeout: .seconds(telegramTimeout), proxy: telegramProxy))
    }

    func limits() -> TelegramLimits {
        var limits = TelegramLimits()
        limits.globalPerSecond = telegramRate
        limits.paidPerSecond = telegramPaidRate
        limits.groupPerMinute = telegramGroupRate
        limits.classWeights = (try? weights()) ?? limits.classWeights
        limits.priorityShare = telegramInteractiveShare
        return limits
    }

    /// `results=2,bulk=1`: both classes, each a positive integer weight.
    func weights() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for part in telegramWeights.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, ["results", "bulk"].contains(pair[0]), let weight = Int(pair[1]), (1...1000).contains(weight) else {
                throw ValidationError("--telegram-weights takes results=N,bulk=M with weights within 1...1000; got \(telegramWeights)")
            }
            out[pair[0]] = weight
        }
        guard out.count == 2 else { throw ValidationError("--telegram-weights must name both results and bulk; got \(telegramWeights)") }
        return out
    }

    var limitsDescription: String {
        "\(telegramRate)/s (interactive first, at most \(Int(telegramInteractiveShare * 100))% while others wait; then \(telegramWeights)), "
            + "paid \(telegramPaidRate)/s, 1/s per chat, \(telegramGroupRate)/min per group"
    }
}
