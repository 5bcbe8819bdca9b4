import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

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
