import ArgumentParser
import Foundation
import Jobs
import OperatorTools
import Producers
import ThePredKinds

struct MarketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "markets", abstract: "List markets; create and resolve them through their jobs.",
        subcommands: [List.self, Create.self, Resolve.self, MarketsNotificationsCommand.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Markets, newest first, with pools and pending bets.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this status: Active, Resolved or Cancelled.") var status: String?
        @Option(help: "At most this many.") var limit = 20
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            let markets = try await DomainAdmin(db: pool).markets(status: status, limit: limit)
            if json { return try printJSON(markets) }
            printTable(
                ["ID", "STATUS", "RESULT", "CATEGORY", "ENDS", "YES", "NO", "PENDING", "TITLE"],
                markets.map {
                    [
                        "\($0.id)", $0.status, $0.result ?? "-", $0.category, $0.endDate, "\($0.totalYes)", "\($0.totalNo)",
                        "\($0.pendingBets)", $0.title,
                    ]
                })
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueue a markets.create job; prints its job id.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "1 to 300 characters.") var title: String
        @Option(help: "Crypto, Sports, Politics or Tech.") var category: MarketCategory
        @Option(help: "End of betting: ISO 8601, or a distance from now such as 12h or 7d.") var endsAt: String
        @Option var description = ""
        @Flag(help: "Show it first.") var promoted = false

        func validate() throws {
            guard (1...300).contains(title.count) else { throw ValidationError("--title must be 1 to 300 characters") }
        }

        func run() async throws {
            let ends = try parseTime(endsAt, option: "--ends-at", ago: false)
            guard ends > SystemJobClock().nowMillis() else { throw ValidationError("--ends-at must be in the future") }
            try await enqueueAndPrint(
                global, MarketsCreate.kind,
                MarketsCreate(title: title, description: description, category: category, endsAtMillis: ends, promoted: promoted))
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Enqueue a markets.resolve job; prints its job id. Follow it with `thepred jobs show`, and its messages with `thepred markets notifications`."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The market id.") var market: Int64
        @Option(help: "YES, NO or CANCELLED.") var result: MarketsResolve.Result

        func run() async throws {
            try await enqueueAndPrint(global, MarketsResolve.kind, MarketsResolve(marketID: market, result: result))
        }
    }
}
