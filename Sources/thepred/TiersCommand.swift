import ArgumentParser
import Foundation
import Jobs
import OperatorTools
import Producers
import ThePredKinds

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
