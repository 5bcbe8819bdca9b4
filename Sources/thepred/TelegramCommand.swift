import ArgumentParser
import Foundation
import Game
import Jobs
import JobsRedis
import ThePredKinds

/// `thepred telegram`: each Telegram class's backlog, its rate and the time the backlog takes.
struct TelegramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telegram",
        abstract: "Show each Telegram class (interactive, results, bulk): its backlog, its rate over the last minute, and an ETA.",
        discussion: """
            The backlog is what waits in the class's queue (ready and delayed), what is in flight, and what is
            still to produce: settlement messages and broadcast recipients are queued from PostgreSQL as the
            class drains, a few seconds' worth at a time, so most of a large backlog is there (TO PRODUCE).
            The rate counts the jobs of its queue that ended in the last minute; the ETA is the backlog at
            that rate. Without PostgreSQL the table still shows what is in Redis.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    struct Row: Encodable {
        let priority: String
        let queue: String
        let backlog: Int
        let ready: Int
        let delayed: Int
        let inFlight: Int
        /// Nil when PostgreSQL did not answer.
        let toProduce: Int64?
        let jobsPerSecond: Double
        /// Nil when nothing ended in the last minute.
        let etaSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case priority, queue, backlog, ready, delayed, inFlight = "in_flight", toProduce = "to_produce", jobsPerSecond =
                "jobs_per_second"
            case etaSeconds = "eta_seconds"
        }
    }

    func run() async throws {
        let driver = try await global.connectedDriver()
        let unproduced = await self.unproduced()
        var rows: [Row] = []
        for priority in TelegramSend.Priority.allCases {
            let queue = TelegramSend.kind(for: priority).queue
            let s = try await driver.stats(queue: queue)
            let toProduce: Int64? =
                switch priority {
                case .interactive: 0
                case .results: unproduced?.results
                case .bulk: unproduced?.bulk
                }
            let backlog = s.ready + s.delayed + s.inFlight + Int(toProduce ?? 0)
            let rate = (s.recentRate * 100).rounded() / 100
            rows.append(
                Row(
                    priority: priority.rawValue, queue: queue.rawValue, backlog: backlog, ready: s.ready, delayed: s.delayed,
                    inFlight: s.inFlight, toProduce: toProduce, jobsPerSecond: rate,
                    etaSeconds: rate > 0 ? (Double(backlog) / rate).rounded() : nil))
        }
        if json { return try printJSON(rows) }
        printTable(
            ["CLASS", "QUEUE", "BACKLOG", "READY", "DELAYED", "IN FLIGHT", "TO PRODUCE", "RATE/S (1m)", "ETA"],
            rows.map {
                [
                    $0.priority, $0.queue, "\($0.backlog)", "\($0.ready)", "\($0.delayed)", "\($0.inFlight)",
                    $0.toProduce.map { "\($0)" } ?? "?", String(format: "%.1f", $0.jobsPerSecond),
                    $0.backlog == 0 ? "-" : $0.etaSeconds.map { formatAge(Int64($0 * 1000)) } ?? "stalled",
                ]
            })
    }

    /// What PostgreSQL still holds for the results and bulk classes; nil, with a warning, without it.
    private func unproduced() async -> (results: Int64, bulk: Int64)? {
        do {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            return (try await MarketNotificationBacklog.unproduced(db: pool), try await Broadcasts.unproduced(db: pool))
        } catch {
            FileHandle.standardError.write(Data("thepred: backlogs not yet produced unknown: \(describe(error))\n".utf8))
            return nil
        }
    }
}
