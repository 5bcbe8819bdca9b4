import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import ThePredKinds

/// `thepred telegram`: each Telegram class's backlog, its rate and the time the backlog takes.
struct TelegramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telegram",
        abstract: "Show each Telegram class (interactive, results, bulk): its backlog, its rate over the last minute, and an ETA.",
        discussion: """
            The backlog is what waits in the class's queue (ready and delayed) plus what is in flight. The
            rate counts the jobs of its queue that ended in the last minute; the ETA is the backlog at that rate.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    struct Row: Encodable {
        let priority: String
        let queue: String
        let backlog: Int
        let ready: Int
        let delayed: Int
        let inFlight: Int
        let jobsPerSecond: Double
        /// Nil when nothing ended in the last minute.
        let etaSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case priority, queue, backlog, ready, delayed, inFlight = "in_flight", jobsPerSecond = "jobs_per_second"
            case etaSeconds = "eta_seconds"
        }
    }

    func run() async throws {
        let driver = try await global.connectedDriver()
        var rows: [Row] = []
        for priority in TelegramSend.Priority.allCases {
            let queue = TelegramSend.kind(for: priority).queue
            let s = try await driver.stats(queue: queue)
            let backlog = s.ready + s.delayed + s.inFlight
            let rate = (s.recentRate * 100).rounded() / 100
            rows.append(
                Row(
                    priority: priority.rawValue, queue: queue.rawValue, backlog: backlog, ready: s.ready, delayed: s.delayed,
                    inFlight: s.inFlight, jobsPerSecond: rate, etaSeconds: rate > 0 ? (Double(backlog) / rate).rounded() : nil))
        }
        if json { return try printJSON(rows) }
        printTable(
            ["CLASS", "QUEUE", "BACKLOG", "READY", "DELAYED", "IN FLIGHT", "RATE/S (1m)", "ETA"],
            rows.map {
                [
                    $0.priority, $0.queue, "\($0.backlog)", "\($0.ready)", "\($0.delayed)", "\($0.inFlight)",
                    String(format: "%.1f", $0.jobsPerSecond),
                    $0.backlog == 0 ? "-" : $0.etaSeconds.map { formatAge(Int64($0 * 1000)) } ?? "stalled",
                ]
            })
    }
}
