import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

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
                    [
                        $0.id, $0.queue.rawValue, $0.kind ?? "-", $0.jobID ?? "-", $0.reason.rawValue, formatTime($0.failedAt),
                        String($0.message.prefix(80)),
                    ]
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
