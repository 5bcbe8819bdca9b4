import ArgumentParser
import Foundation
import Game
import Jobs
import ThePredKinds

/// `thepred markets notifications <id>`: a resolved market's result messages, sent and to come.
struct MarketsNotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "Show a resolved market's result messages: sent, failed, pending, still to produce, and an ETA.",
        discussion: """
            The messages are produced from PostgreSQL as the results class drains (markets.notify), so most
            of a large market's backlog is not in Redis: TO PRODUCE counts those. PENDING is every message
            neither sent nor failed. The ETA is PENDING at the results queue's rate over the last minute,
            which other markets' notifications and leaderboard rewards share.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The market id.") var market: Int64
    @Flag(help: "Print JSON.") var json = false

    struct View: Encodable {
        let notifications: MarketNotificationStatus
        let resultsPerSecond: Double?
        let etaSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case notifications, resultsPerSecond = "results_per_second", etaSeconds = "eta_seconds"
        }
    }

    func run() async throws {
        let pool = try await database.connectedPool(size: 1)
        defer { pool.close() }
        guard let status = try await MarketNotificationBacklog.status(market, db: pool) else {
            throw CLIError(
                "market \(market) has no result messages: it does not exist, is not resolved yet, or was resolved before they were tracked")
        }
        // The rate is Redis's; without it the figures are still worth showing.
        var rate: Double?
        do {
            let s = try await global.connectedDriver().stats(queue: TelegramSend.resultsKind.queue)
            rate = (s.recentRate * 100).rounded() / 100
        } catch {
            FileHandle.standardError.write(Data("thepred: no rate, Redis did not answer: \(describe(error))\n".utf8))
        }
        let eta = rate.flatMap { $0 > 0 ? (Double(status.pending) / $0).rounded() : nil }
        if json { return try printJSON(View(notifications: status, resultsPerSecond: rate, etaSeconds: eta)) }
        printTable(
            ["MARKET", "BETS", "SKIPPED", "QUEUED", "SENT", "FAILED", "PENDING", "TO PRODUCE", "EVENTS LEFT", "RATE/S (1m)", "ETA"],
            [
                [
                    "\(status.marketID)", "\(status.totalBets)", "\(status.skipped)", "\(status.queued)", "\(status.sent)",
                    "\(status.failed)", "\(status.pending)", "\(status.toProduce)", "\(status.eventsLeft)",
                    rate.map { String(format: "%.1f", $0) } ?? "?",
                    status.pending == 0 ? "-" : eta.map { formatAge(Int64($0 * 1000)) } ?? "stalled",
                ]
            ])
    }
}
