import ArgumentParser
import Foundation
import Jobs
import OperatorTools
import Producers
import ThePredKinds

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
