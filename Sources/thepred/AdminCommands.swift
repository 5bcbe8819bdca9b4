import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Show every queue: ready, delayed, in flight, dead, consumers, oldest waiting age, recent rate.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Also list the live consumers of each queue and what they hold.") var consumers = false

    func run() async throws {
        let driver = try await global.connectedDriver()
        var stats: [QueueStats] = []
        for queue in try await driver.knownQueues() { stats.append(try await driver.stats(queue: queue)) }
        var live: [String: [ConsumerStatus]] = [:]
        if consumers || json {
            for s in stats { live[s.queue] = try await driver.consumers(queue: try QueueName(validating: s.queue)) }
        }
        if json {
            return try printJSON(QueueFiguresList(queues: stats.map { QueueFiguresView($0, liveConsumers: live[$0.queue] ?? []) }))
        }
        if stats.isEmpty {
            print("no queues yet: a worker or an enqueue creates them")
            return
        }
        printTable(
            ["QUEUE", "READY", "DELAYED", "IN FLIGHT", "DEAD", "CONSUMERS", "OLDEST WAITING", "RATE/S (1m)"],
            stats.map {
                [$0.queue, "\($0.ready)", "\($0.delayed)", "\($0.inFlight)", "\($0.dead)", "\($0.consumers)",
                 formatAge($0.oldestWaitingMillis), String(format: "%.1f", $0.recentRate)]
            })
        if consumers {
            let now = SystemJobClock().nowMillis()
            print("")
            printTable(
                ["QUEUE", "CONSUMER", "HOST", "PID", "CONCURRENCY", "HOLDS", "PROCESSED", "LAST BEAT", "UP"],
                stats.flatMap { s in
                    (live[s.queue] ?? []).map {
                        [s.queue, $0.info.name, $0.info.host, "\($0.info.pid)", "\($0.info.concurrency)", "\($0.pending)",
                         "\($0.info.processed)", formatAge(now - $0.lastBeat) + " ago", formatAge(now - $0.info.startedAt)]
                    }
                })
        }
    }
}

/// A dead letter as the CLI prints it.
struct DeadLetterView: Encodable {
    let id: String
    let queue: String
    let jobID: String?
    let kind: String?
    let reason: String
    let message: String
    let failedAt: String
    let attempt: Int?
    let enqueuedAt: String?
    let redrives: Int?
    let payload: String?
    let errors: [ErrorView]
    let rawFields: [String: String]?

    struct ErrorView: Encodable {
        let attempt: Int
        let at: String
        let error: String
    }

    init(_ d: DeadLetter) {
        id = d.id
        queue = d.queue.rawValue
        jobID = d.jobID
        kind = d.kind
        reason = d.reason.rawValue
        message = d.message
        failedAt = formatTime(d.failedAt)
        attempt = d.envelope?.attempt
        enqueuedAt = d.envelope.map { formatTime($0.enqueuedAt) }
        redrives = d.envelope?.redrives
        payload = d.envelope.map { String(decoding: $0.payload, as: UTF8.self) }
        errors = (d.envelope?.errors ?? []).map { ErrorView(attempt: $0.attempt, at: formatTime($0.at), error: $0.error) }
        rawFields = d.rawFields.isEmpty ? nil : Dictionary(d.rawFields) { a, _ in a }
    }
}

/// Filters shared by `dlq list`, `dlq retry --all` and `dlq purge`.
struct DeadLetterFilterOptions: ParsableArguments {
    @Option(help: "Only this queue. Default: every queue.") var queue: String?
    @Option(help: "Only this job kind.") var kind: String?
    @Option(help: "Only entries that died since this ISO 8601 time or age (30m, 2h, 7d).") var since: String?

    func queues(_ driver: RedisQueueDriver) async throws -> [QueueName] {
        if let queue { return [try parseQueue(queue)] }
        return try await driver.knownQueues()
    }

    func filter(limit: Int) throws -> DeadLetterFilter {
        DeadLetterFilter(kind: kind, since: try since.map(parseSince), limit: limit)
    }

    /// Every matching entry across the chosen queues, newest first per queue.
    func matching(_ driver: RedisQueueDriver, limit: Int) async throws -> [DeadLetter] {
        var out: [DeadLetter] = []
        for queue in try await queues(driver) where out.count < limit {
            out += try await driver.deadLetters(queue: queue, filter: try filter(limit: limit - out.count))
        }
        return out
    }
}

struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Inspect and repair dead-letter queues.",
        subcommands: [List.self, Show.self, Retry.self, Delete.self, Purge.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filters: DeadLetterFilterOptions
        @Option(help: "At most this many entries.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let driver = try await global.connectedDriver()
            let letters = try await filters.matching(driver, limit: limit)
            if json { return try printJSON(letters.map(DeadLetterView.init)) }
            if letters.isEmpty { return print("no dead letters match") }
            printTable(
                ["ID", "QUEUE", "KIND", "JOB", "REASON", "FAILED AT", "MESSAGE"],
                letters.map {
                    [$0.id, $0.queue.rawValue, $0.kind ?? "-", $0.jobID ?? "-", $0.reason.rawValue, formatTime($0.failedAt),
                     String($0.message.prefix(80))]
                })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one dead letter: payload, reason, and every attempt's error with its time.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Dead-letter id (as listed) or job id.") var id: String
        @Option(help: "The queue; default: search every queue.") var queue: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let driver = try await global.connectedDriver()
            guard let letter = try await findDeadLetter(id, queue: queue, driver: driver) else {
                throw CLIError("no dead letter with id \(id)")
            }
            let view = DeadLetterView(letter)
            if json { return try printJSON(view) }
            print("dead letter  \(view.id)")
            print("queue        \(view.queue)")
            print("job          \(view.jobID ?? "-")")
            print("kind         \(view.kind ?? "-")")
            print("reason       \(view.reason)")
            print("message      \(view.message)")
            print("failed at    \(view.failedAt)")
            print("enqueued at  \(view.enqueuedAt ?? "-")")
            print("attempt      \(view.attempt.map(String.init) ?? "-")")
            print("redrives     \(view.redrives.map(String.init) ?? "0")")
            print("payload      \(view.payload ?? "-")")
            if !view.errors.isEmpty {
                print("errors:")
                for e in view.errors { print("  attempt \(e.attempt) at \(e.at): \(e.error)") }
            }
            if let raw = view.rawFields {
                print("raw fields (the entry was not a job):")
                for (k, v) in raw.sorted(by: { $0.key < $1.key }) { print("  \(k) = \(v)") }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enqueue dead letters afresh with their attempts reset, and record the redrive.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filters: DeadLetterFilterOptions
        @Argument(help: "Dead-letter ids or job ids.") var ids: [String] = []
        @Flag(help: "Retry every entry matching the filters.") var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("name ids, or --all with optional filters, not both") }
        }

        func run() async throws {
            let driver = try await global.connectedDriver()
            var targets: [(String, QueueName)] = []
            if all {
                targets = try await filters.matching(driver, limit: .max).map { ($0.id, $0.queue) }
            } else {
                for id in ids {
                    guard let letter = try await findDeadLetter(id, queue: filters.queue, driver: driver) else {
                        throw CLIError("no dead letter with id \(id); nothing was retried")
                    }
                    targets.append((letter.id, letter.queue))
                }
            }
            var failed = 0
            var done = 0
            for (index, (id, queue)) in targets.enumerated() {
                for r in try await driver.redrive([id], queue: queue) {
                    if let job = r.jobID {
                        done += 1
                        if targets.count <= 20 { print("retried \(r.deadLetterID) as job \(job) on \(queue)") }
                    } else {
                        failed += 1
                        FileHandle.standardError.write(Data("could not retry \(r.deadLetterID): \(r.error ?? "")\n".utf8))
                    }
                }
                if targets.count > 20 && (index + 1) % 1000 == 0 { print("… \(index + 1)/\(targets.count)") }
            }
            print("retried \(done) of \(targets.count)")
            if failed > 0 { throw ExitCode.failure }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete dead letters by id.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Dead-letter ids or job ids.") var ids: [String]
        @Option(help: "The queue; default: search every queue.") var queue: String?

        func run() async throws {
            let driver = try await global.connectedDriver()
            var missing: [String] = []
            var deleted = 0
            for id in ids {
                guard let letter = try await findDeadLetter(id, queue: queue, driver: driver) else {
                    missing.append(id)
                    continue
                }
                deleted += try await driver.deleteDeadLetters([letter.id], queue: letter.queue)
            }
            print("deleted \(deleted)")
            if !missing.isEmpty { throw CLIError("not found: \(missing.joined(separator: ", "))") }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every dead letter matching the filters.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filters: DeadLetterFilterOptions
        @Flag(help: "Confirm; without it nothing is deleted.") var yes = false

        func run() async throws {
            let driver = try await global.connectedDriver()
            let letters = try await filters.matching(driver, limit: .max)
            guard yes else {
                print("\(letters.count) dead letters match; run again with --yes to delete them")
                throw ExitCode.failure
            }
            var deleted = 0
            for (queue, group) in Dictionary(grouping: letters, by: \.queue) {
                deleted += try await driver.deleteDeadLetters(group.map(\.id), queue: queue)
            }
            print("purged \(deleted)")
        }
    }
}

func findDeadLetter(_ id: String, queue: String?, driver: RedisQueueDriver) async throws -> DeadLetter? {
    let queues: [QueueName]
    if let queue { queues = [try parseQueue(queue)] } else { queues = try await driver.knownQueues() }
    for q in queues {
        if let found = try await driver.deadLetter(id, queue: q) { return found }
    }
    return nil
}

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Look at or cancel one job by id.", subcommands: [Show.self, Cancel.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job's status, attempt, due time, error and payload.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job id.") var id: String
        @Option(help: "The queue; default: search every queue.") var queue: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let driver = try await global.connectedDriver()
            guard let record = try await driver.job(JobID(rawValue: id), queue: try queue.map(parseQueue)) else {
                throw CLIError("no job with id \(id) (unknown, or finished longer ago than the status retention)")
            }
            if json { return try printJSON(JobRecordView(record, admin: true)) }
            let rows: [(String, String?)] = [
                ("job", record.id.rawValue), ("queue", record.queue.rawValue), ("status", record.status.rawValue), ("kind", record.kind),
                ("attempt", record.attempt.map(String.init)), ("enqueued at", record.envelope.map { formatTime($0.enqueuedAt) }),
                ("due at", record.dueAt.map(formatTime)), ("updated at", record.updatedAt.map(formatTime)),
                ("consumer", record.consumer), ("last error", record.lastError), ("dead letter", record.deadLetterID),
                ("payload", record.envelope.map { String(decoding: $0.payload, as: UTF8.self) }),
            ]
            for (label, value) in rows where value != nil {
                print(label.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + value!)
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job that has not started.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job id.") var id: String
        @Option(help: "The queue; default: search every queue.") var queue: String?

        func run() async throws {
            let driver = try await global.connectedDriver()
            switch try await driver.cancel(JobID(rawValue: id), queue: try queue.map(parseQueue)) {
            case .cancelled: print("cancelled \(id)")
            case .notFound: throw CLIError("no job with id \(id)")
            case .notCancellable(let status): throw CLIError("job \(id) is \(status.rawValue); only waiting jobs can be cancelled")
            }
        }
    }
}

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job of any kind with a raw JSON payload (operators and smoke tests).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job kind, such as system.noop.") var kind: String
    @Option(help: "The payload, as JSON.") var payload: String = "{}"
    @Option(help: "The queue. Default: the kind's queue if this build knows it.") var queue: String?
    @Option(help: "Run no earlier than this many seconds from now.") var delay: Int?
    @Option(help: "Idempotency key: a repeat returns the first job's id.") var idempotencyKey: String?

    func run() async throws {
        guard (try? JSONSerialization.jsonObject(with: Data(payload.utf8), options: [.fragmentsAllowed])) != nil else {
            throw ValidationError("--payload is not valid JSON")
        }
        let name: JobName
        do { name = try JobName(validating: kind) } catch { throw ValidationError(error.message) }
        let known = try AppKinds.registry().descriptor(named: name.rawValue)
        guard let target = try queue.map(parseQueue) ?? known?.queue else {
            throw ValidationError("unknown kind \(kind): give --queue")
        }
        let driver = try await global.connectedDriver()
        let now = SystemJobClock().nowMillis()
        let envelope = JobEnvelope(
            id: .generate(millis: now), kind: name.rawValue, payload: Array(payload.utf8), enqueuedAt: now,
            notBefore: delay.map { now + Int64($0) * 1000 }, idempotencyKey: idempotencyKey)
        try await driver.prepare(queue: target)
        let result = try await driver.enqueue([envelope], queue: target)[0]
        print(result.duplicate ? "\(result.id) (duplicate of an earlier enqueue)" : result.id.rawValue)
    }
}
