import ArgumentParser
import Foundation
import HTTPFront
import Jobs
import JobsRedis
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import ThePredRedis

/// `thepred init-data`: signed Mini App init data, for trying the front with curl or wrk.
struct InitDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-data",
        abstract: "Print Telegram Mini App init data for a user, signed with the bot token.",
        discussion: "For local use: send it as `Authorization: tma <init data>` to a front holding the same token.")
    @Option(help: "The Telegram user id.") var user: Int64
    @Option(help: "The username; with --count, each user's id is appended to it.") var username: String?
    @Option(help: "Users to sign for, one line each: --user, --user + 1, … (for load tests).") var count = 1
    @Option(name: .customLong("telegram-bot-token"), help: "Bot token. Env: TELEGRAM_BOT_TOKEN.")
    var telegramBotTokenOption: String?
    @Option(
        name: .customLong("telegram-bot-token-file"),
        help: "A file holding the bot token (trailing newline ignored). Env: TELEGRAM_BOT_TOKEN_FILE.")
    var telegramBotTokenFile: String?

    /// As the front and the worker find it, so the init data is signed with the token they check it with.
    func botToken() throws -> String {
        try Secret.resolve(
            option: "telegram-bot-token", argument: telegramBotTokenOption, file: telegramBotTokenFile, env: "TELEGRAM_BOT_TOKEN"
        ).value
    }

    func validate() throws {
        guard user >= 1 else { throw ValidationError("--user must be a positive Telegram id") }
        guard (1...1_000_000).contains(count), user <= Int64.max - Int64(count) else {
            throw ValidationError("--count must be within 1...1000000, and --user + --count a Telegram id")
        }
        guard !(try botToken().isEmpty) else {
            throw ValidationError("set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE (or --telegram-bot-token-file)")
        }
    }

    func run() async throws {
        let verifier = InitDataVerifier(botToken: try botToken())
        let now = Int64(Date().timeIntervalSince1970)
        var out = ""
        for id in user..<(user + Int64(count)) {
            let name = count == 1 ? username : username.map { "\($0)\(id)" }
            out += verifier.sign(userID: id, username: name, authDate: now) + "\n"
        }
        print(out, terminator: "")
    }
}
