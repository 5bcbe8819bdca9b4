import ArgumentParser
import Foundation
import Jobs
import OperatorTools
import Producers
import ThePredKinds

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
            printTable(
                ["KIND", "TARGET", "REWARD", "ACTIVE"],
                missions.map { [$0.kind, "\($0.target)", "\($0.reward)", $0.active ? "yes" : "no"] })
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
