import ArgumentParser
import Consumers
import Foundation
import Jobs
import Producers

/// Enqueues one typed job and prints its id.
func enqueueAndPrint<P>(_ global: GlobalOptions, _ kind: JobKind<P>, _ payload: P, options: EnqueueOptions = .now) async throws {
    let driver = try await global.connectedDriver()
    try await driver.prepare(queue: kind.queue)
    let result = try await JobClient(driver: driver).enqueue(kind, payload, options: options)
    print(result.duplicate ? "\(result.id) (duplicate of an earlier enqueue)" : result.id.rawValue)
}

extension LeaderboardPeriod.Kind: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}

extension MarketCategory: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.prefix(1).uppercased() + argument.dropFirst().lowercased()) }
}

extension MarketsResolve.Result: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}

struct MarketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "markets", abstract: "List markets; create and resolve them through their jobs.",
        subcommands: [List.self, Create.self, Resolve.self])

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
                markets.map { ["\($0.id)", $0.status, $0.result ?? "-", $0.category, $0.endDate, "\($0.totalYes)", "\($0.totalNo)",
                               "\($0.pendingBets)", $0.title] })
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
            abstract: "Enqueue a markets.resolve job; prints its job id. Follow it with `thepred jobs show`.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The market id.") var market: Int64
        @Option(help: "YES, NO or CANCELLED.") var result: MarketsResolve.Result

        func run() async throws {
            try await enqueueAndPrint(global, MarketsResolve.kind, MarketsResolve(marketID: market, result: result))
        }
    }
}

struct MissionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "missions", abstract: "Show and change the 19 missions' targets, rewards and whether they run.",
        subcommands: [List.self, Set.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every mission with its target and reward.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            let missions = try await DomainAdmin(db: pool).missions()
            if json { return try printJSON(missions) }
            printTable(["KIND", "TARGET", "REWARD", "ACTIVE"], missions.map { [$0.kind, "\($0.target)", "\($0.reward)", $0.active ? "yes" : "no"] })
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a mission. Progress is kept; a completed mission stays paid.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The mission kind, such as FIRST_BET.") var kind: String
        @Option(help: "The figure that completes it.") var target: Int64?
        @Option(help: "PRED paid on completion.") var reward: Int64?
        @Flag(inversion: .prefixedEnableDisable, help: "Whether the mission advances.") var enabled: Bool?

        func validate() throws {
            guard target != nil || reward != nil || enabled != nil else {
                throw ValidationError("give --target, --reward, --enabled or --disabled")
            }
        }

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            do {
                let m = try await DomainAdmin(db: pool).setMission(kind: kind.uppercased(), target: target, reward: reward, active: enabled)
                print("\(m.kind): target \(m.target), reward \(m.reward) PRED, \(m.active ? "enabled" : "disabled")")
            } catch let error as JobsError {
                throw CLIError(error.message)
            }
        }
    }
}

struct TiersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiers", abstract: "Show and change the leaderboard reward tiers (ranks -> PRED).",
        subcommands: [List.self, Set.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tiers of both periods, or of one.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "WEEK or MONTH.") var period: LeaderboardPeriod.Kind?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            let tiers = try await DomainAdmin(db: pool).tiers(period: period)
            if json { return try printJSON(tiers) }
            printTable(["PERIOD", "RANKS", "AMOUNT"], tiers.map { [$0.period, "\($0.rankFrom)-\($0.rankTo)", "\($0.amount)"] })
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pay ranks FROM-TO this amount when a period closes. Replaces the tier that starts at FROM.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "WEEK or MONTH.") var period: LeaderboardPeriod.Kind
        @Option(help: "A rank or a range of ranks, such as 1 or 2-10.") var ranks: String
        @Option(help: "PRED per user in these ranks.") var amount: Int64

        func run() async throws {
            let parts = ranks.split(separator: "-").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(parts.count), let from = parts[0], let to = parts.last ?? nil, from <= to else {
                throw ValidationError("--ranks wants a rank or a range such as 2-10; got '\(ranks)'")
            }
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            do {
                let t = try await DomainAdmin(db: pool).setTier(period: period, ranks: from...to, amount: amount)
                print("\(t.period) ranks \(t.rankFrom)-\(t.rankTo): \(t.amount) PRED")
            } catch let error as JobsError {
                throw CLIError(error.message)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the tier that starts at a rank.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "WEEK or MONTH.") var period: LeaderboardPeriod.Kind
        @Option(help: "The first rank of the tier.") var from: Int64

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            guard try await DomainAdmin(db: pool).deleteTier(period: period, from: from) else {
                throw CLIError("no \(period.rawValue) tier starts at rank \(from)")
            }
            print("deleted the \(period.rawValue) tier starting at rank \(from)")
        }
    }
}

struct LeaderboardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaderboards", abstract: "Close leaderboard periods by hand (the scheduler does it on time).",
        subcommands: [Close.self])

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enqueue a leaderboard.close job; prints its job id. A closed period is not closed again.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "WEEK or MONTH.") var period: LeaderboardPeriod.Kind
        @Option(help: "A day in the period, YYYY-MM-DD (UTC). Default: the last period that has ended.") var day: String?
        @Option(help: "Snapshot rows.") var top: Int?

        func run() async throws {
            var start: Int64?
            if let day {
                guard LeaderboardPeriod.isValidDay(day), let date = ISO8601DateFormatter().date(from: day + "T00:00:00Z") else {
                    throw ValidationError("--day wants a date YYYY-MM-DD; got '\(day)'")
                }
                start = LeaderboardPeriod.containing(Int64(date.timeIntervalSince1970 * 1000), kind: period).startsAt
            }
            try await enqueueAndPrint(global, LeaderboardClose.kind, LeaderboardClose(period: period, startsAtMillis: start, top: top))
        }
    }
}
