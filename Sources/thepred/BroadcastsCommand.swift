import ArgumentParser
import Foundation
import Game
import Jobs
import JobsRedis
import Logging
import Postgres
import Producers
import ThePredKinds
import ThePredRedis

extension TelegramSend.ParseMode: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "html": self = .html
        case "markdown": self = .markdown
        default: return nil
        }
    }
}

struct BroadcastsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcasts",
        abstract: "Create, list, show and cancel broadcasts.",
        discussion: """
            A broadcast goes to every user who is not banned and not unreachable (--to all), or to one
            telegram id. It is PENDING until it starts (now, or at --at), PROCESSING while it fans out and
            sends, then COMPLETED; an operator can CANCEL it until it completes.
            On the free lane Telegram takes about 30 messages a second, so 100,000 recipients take about
            56 minutes; --paid uses the paid-broadcast lane (up to 1000/s, charged by Telegram).
            """,
        subcommands: [Create.self, List.self, Show.self, Cancel.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a broadcast and start or schedule it; prints its id.",
            discussion: "Everything is checked before anything is queued; a refusal names the field and exits 1.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The message: 1 to 4096 characters, or at most 1024 with --photo-url.") var text: String?
        @Option(help: "Read the message from this file instead (- for standard input).") var textFile: String?
        @Option(help: "HTML or Markdown.") var parseMode: TelegramSend.ParseMode = .html
        @Option(help: "Send as a photo (http or https URL) with the text as its caption.") var photoURL: String?
        @Option(help: "all, or one telegram id.") var to = "all"
        @Option(help: "Start later: ISO 8601 (2026-12-01T09:00:00Z) or a distance such as 30s, 10m, 2h.") var at: String?
        @Flag(help: "Use the paid-broadcast lane (allow_paid_broadcast).") var paid = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let message: String
            switch (text, textFile) {
            case (let t?, nil): message = t
            case (nil, "-"?): message = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            case (nil, let path?):
                guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read --text-file \(path)") }
                message = String(decoding: data, as: UTF8.self)
            default: throw ValidationError("give exactly one of --text and --text-file")
            }
            var request = BroadcastRequest(text: message, parseMode: parseMode, photoURL: photoURL, paid: paid ? true : nil)
            if to != "all" {
                guard let id = Int64(to) else { throw ValidationError("--to must be all or a telegram id, not \(to)") }
                request.target = .user
                request.telegramID = id
            }
            if let at { request.scheduledAtMillis = try parseTime(at, option: "--at", ago: false) }
            do {
                try request.validate(now: SystemJobClock().nowMillis())
            } catch {
                throw CLIError("refused, nothing queued: \(error)")
            }
            let driver = try await global.connectedDriver()
            try await driver.prepare(queue: BroadcastFanout.kind.queue)
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            let made = try await Broadcasts.create(request, db: pool, client: JobClient(driver: driver))
            await publish(made, driver: driver, db: pool, logger: global.logger("thepred.broadcasts"))
            if json { return try printJSON(made) }
            let when = made.scheduledAt.map { "scheduled for \(formatTime($0))" } ?? "starting now"
            print("broadcast \(made.id) \(made.status.rawValue), \(when) (job \(made.jobID ?? "-"))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Broadcasts, newest first, with their counts.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this status: PENDING, PROCESSING, COMPLETED or CANCELLED.") var status: BroadcastStatus.State?
        @Option(help: "At most this many.") var limit = 20
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            let rows = try await Broadcasts.list(status: status, limit: limit, db: pool)
            if json { return try printJSON(rows) }
            printTable(
                ["ID", "STATUS", "TO", "SCHEDULED", "TOTAL", "SENT", "FAILED", "PENDING", "TEXT"],
                rows.map {
                    [
                        "\($0.id)", $0.status.rawValue, $0.telegramID.map(String.init) ?? "all", formatTime($0.scheduledAt), "\($0.total)",
                        "\($0.sent)", "\($0.failed)", "\($0.pending)", String($0.text.prefix(40)).replacingOccurrences(of: "\n", with: " "),
                    ]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One broadcast: status, counts and a progress bar.",
            discussion: "With --watch it redraws every second until the broadcast completes or is cancelled.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The broadcast id.") var id: Int64
        @Flag(help: "Follow it until it ends.") var watch = false
        @Flag(help: "Print JSON (once).") var json = false

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            var last: (at: ContinuousClock.Instant, ended: Int64)?
            while true {
                guard let b = try await Broadcasts.status(id, db: pool) else { throw CLIError("no broadcast \(id)") }
                if json { return try printJSON(b) }
                let now = ContinuousClock.now
                let ended = b.sent + b.failed + b.cancelled
                var rate: Double?
                if let last, now - last.at > .milliseconds(500) {
                    let span = now - last.at
                    rate = Double(ended - last.ended) / span.inSeconds
                }
                // On a terminal the block is redrawn in place; in a log each refresh is appended.
                if watch && last != nil && isatty(1) == 1 { print("\u{1B}[8A\u{1B}[J", terminator: "") }
                Self.render(b, rate: rate)
                if !watch || b.status.isFinal { return }
                if last == nil || now - last!.at >= .seconds(5) { last = (now, ended) }
                try await Task.sleep(for: .seconds(1))
            }
        }

        static func render(_ b: BroadcastStatus, rate: Double?) {
            print("broadcast \(b.id)  \(b.status.rawValue)\(b.fanoutDone || b.status == .pending ? "" : "  (still queuing recipients)")")
            print(
                "  to        \(b.telegramID.map { "telegram id \($0)" } ?? "all users")\(b.paid ? ", paid lane" : ""), \(b.parseMode)\(b.photoURL.map { ", photo \($0)" } ?? "")"
            )
            print("  text      \(String(b.text.prefix(60)).replacingOccurrences(of: "\n", with: " "))\(b.text.count > 60 ? "…" : "")")
            print(
                "  times     created \(formatTime(b.createdAt)), scheduled \(formatTime(b.scheduledAt)), started \(formatTime(b.startedAt))"
            )
            print("            completed \(formatTime(b.completedAt)), cancelled \(formatTime(b.cancelledAt))")
            print("  counts    total \(b.total)  sent \(b.sent)  failed \(b.failed)  dropped \(b.cancelled)  pending \(b.pending)")
            let share = b.total == 0 ? (b.status == .completed ? 1 : 0) : Double(b.ended) / Double(b.total)
            let width = 40
            let filled = min(width, Int(share * Double(width)))
            var eta = ""
            if let rate, rate > 0, b.pending > 0 {
                eta = String(format: ", %.0f msg/s, about %@ left", rate, formatAge(Int64(Double(b.pending) / rate * 1000)))
            }
            print(
                "  progress  [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(String(format: "%.1f", share * 100))%\(eta)"
            )
            print("  job       \(b.jobID ?? "-")")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a broadcast that has not completed.",
            discussion: "Before it starts nothing is sent. During fan-out or sending, the messages not yet sent are dropped.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The broadcast id.") var id: Int64

        func run() async throws {
            let pool = try await database.connectedPool(size: 1)
            defer { pool.close() }
            guard let b = try await Broadcasts.cancel(id, db: pool) else { throw CLIError("no broadcast \(id)") }
            guard b.status == .cancelled else {
                throw CLIError("broadcast \(id) is \(b.status.rawValue); only PENDING or PROCESSING ones can be cancelled")
            }
            // The handler would see the status anyway; removing a scheduled job keeps the queue tidy.
            if let driver = try? await global.connectedDriver() {
                if let job = b.jobID.map(JobID.init(rawValue:)) { _ = try? await driver.cancel(job, queue: BroadcastFanout.kind.queue) }
                await publish(b, driver: driver, db: pool, logger: global.logger("thepred.broadcasts"))
            }
            print("broadcast \(id) cancelled; \(b.sent) sent before it, \(b.pending) still queued will be dropped")
        }
    }
}

/// Shows the change to the HTTP front at once; a failure only delays it until a worker publishes.
private func publish(_ status: BroadcastStatus, driver: RedisQueueDriver, db: any PostgresClient, logger: Logger) async {
    let publisher = BroadcastPublisher(board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys), db: db, logger: logger)
    do {
        try await publisher.publish(status)
    } catch {
        logger.warning("cannot publish the broadcast's status for the HTTP front", metadata: ["error": "\(error)"])
    }
}
