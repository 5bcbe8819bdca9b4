import Foundation
import Jobs
import JobsRedis
import TestSupport
import Testing

/// The built `thepred` binary, next to the test bundle.
let thepredBinary: URL = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/thepred")
}()

extension Thread {
    /// Reads a pipe to its end on another thread, so a full stderr pipe cannot stall the child.
    static func detachedRead(_ pipe: Pipe) -> @Sendable () -> Data {
        let box = DataBox()
        let done = DispatchSemaphore(value: 0)
        Thread {
            box.set(pipe.fileHandleForReading.readDataToEndOfFile())
            done.signal()
        }.start()
        return {
            done.wait()
            return box.get()
        }
    }
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

struct Run {
    let status: Int32
    let out: String
    let err: String

    /// Starts `p` and waits for its end, off the cooperative pool.
    static func toEnd(_ p: Process, _ out: Pipe, _ err: Pipe) async throws -> Run {
        try await offPool {
            try p.run()
            let e = Thread.detachedRead(err)
            let o = out.fileHandleForReading.readDataToEndOfFile()
            while p.isRunning { usleep(5_000) }
            return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e(), as: UTF8.self))
        }
    }
}

/// A `thepred` process talking to the test Redis under its own key prefix.
final class CLI: Sendable {
    let prefix = "e2e-\(UInt32.random(in: 0 ... .max))"
    let url: String

    init() throws { url = try TestRedis.url() }

    /// `redis: false` for the commands that take no Redis options (migrate, seed, broadcasts show).
    func process(_ args: [String], redis: Bool = true) -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = thepredBinary
        p.arguments = args + (redis ? ["--redis-url", url, "--key-prefix", prefix] : [])
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = "warning"
        // Workers check PostgreSQL at start; the test server's database is enough for them.
        if let pg = TestPostgres.serverURL { env["DATABASE_URL"] = pg }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        return (p, out, err)
    }

    /// Runs a command to its end, off the cooperative pool.
    @discardableResult
    func run(_ args: String...) async throws -> Run { try await run(args) }

    @discardableResult
    func run(_ args: [String], redis: Bool = true) async throws -> Run {
        let (p, out, err) = process(args, redis: redis)
        return try await Run.toEnd(p, out, err)
    }

    func json(_ args: String...) async throws -> Any {
        let (p, out, _) = process(args)
        let data = try await offPool {
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            while p.isRunning { usleep(5_000) }
            return data
        }
        return try JSONSerialization.jsonObject(with: data)
    }

    /// A driver on the same keys, to look at Redis directly.
    func driver() throws -> RedisQueueDriver {
        RedisQueueDriver(configuration: .init(redis: try RedisConfiguration(url: url), keys: RedisKeys(prefix: prefix)))
    }
}

@Suite("thepred CLI, as a process", .serialized)
struct CLITests {
    @Test("dead letters can be listed, shown, retried, deleted and purged")
    func deadLetterWorkflow() async throws {
        let cli = try CLI()
        let bad = try await cli.run("enqueue", "system.noop", "--payload", "{\"tag\":5}")
        #expect(bad.status == 0)
        let jobID = bad.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(JobID.looksValid(jobID))

        // A worker runs it: the payload does not decode, so it dies at once.
        let (worker, _, _) = cli.process(["worker", "--concurrency", "2"])
        try worker.run()
        let driver = try cli.driver()
        #expect(try await eventually { try await driver.deadLetters(queue: "default", filter: .init()).count == 1 })
        kill(worker.processIdentifier, SIGTERM)
        try await waitForExit(worker)
        #expect(worker.terminationStatus == 0)

        let list = try #require(try await cli.json("dlq", "list", "--json") as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["jobID"] as? String == jobID)
        #expect(list.first?["reason"] as? String == "permanent")
        let deadID = try #require(list.first?["id"] as? String)

        let show = try await cli.run("dlq", "show", jobID)
        #expect(show.status == 0)
        #expect(show.out.contains("payload does not decode"))
        #expect(show.out.contains("attempt 1 at"))
        #expect(try await cli.run("dlq", "list", "--kind", "other.kind").out.contains("no dead letters match"))

        let retried = try await cli.run("dlq", "retry", deadID)
        #expect(retried.status == 0)
        #expect(retried.out.contains("retried 1 of 1"))
        let job = try #require(try await cli.json("jobs", "show", jobID, "--json") as? [String: Any])
        #expect(job["status"] as? String == "queued")
        #expect(try await cli.run("dlq", "retry", deadID).status != 0)

        // Purge asks for --yes.
        try await driver.complete(
            [
                JobCompletion(
                    job: try #require(
                        try await driver.fetch(queue: "default", consumer: "t", maxCount: 1, blockFor: .milliseconds(100)).first),
                    outcome: .dead(reason: .permanent, error: AttemptError(attempt: 1, at: 0, error: "again")))
            ], queue: "default")
        let unconfirmed = try await cli.run("dlq", "purge")
        #expect(unconfirmed.status != 0)
        #expect(unconfirmed.out.contains("1 dead letters match"))
        #expect(try await cli.run("dlq", "purge", "--yes").out.contains("purged 1"))
        #expect(try await cli.run("dlq", "delete", "1-0").status != 0)
    }

    @Test("jobs show and cancel, and clear errors")
    func jobsAndErrors() async throws {
        let cli = try CLI()
        let id = try await cli.run("enqueue", "system.noop", "--delay", "600").out.trimmingCharacters(in: .whitespacesAndNewlines)
        let shown = try await cli.run("jobs", "show", id)
        #expect(shown.out.contains("scheduled"))
        #expect(try await cli.run("jobs", "cancel", id).out.contains("cancelled"))
        let again = try await cli.run("jobs", "cancel", id)
        #expect(again.status != 0)
        #expect(again.err.contains("is cancelled"))
        let missing = try await cli.run("jobs", "show", "01ZZZZZZZZZZZZZZZZZZZZZZZZ")
        #expect(missing.status != 0)
        #expect(missing.err.contains("no job with id"))

        let queues = try #require((try await cli.json("queues", "--json") as? [String: Any])?["queues"] as? [[String: Any]])
        #expect(queues.first?["queue"] as? String == "default")

        let (p, _, err) = cli.process(["queues"])
        p.arguments = ["queues", "--redis-url", "redis://127.0.0.1:1/0"]
        let message = try await offPool {
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            while p.isRunning { usleep(5_000) }
            return text
        }
        #expect(p.terminationStatus != 0)
        #expect(message.contains("cannot reach Redis at redis://127.0.0.1:1/0"))

        let badArgs = try await cli.run("worker", "--concurrency", "0")
        #expect(badArgs.status != 0)
        #expect(badArgs.err.contains("--concurrency must be at least 1"))
    }

    @Test("a worker process drains and acks on SIGTERM; a second one finishes the rest")
    func sigtermDrains() async throws {
        let cli = try CLI()
        let driver = try cli.driver()
        try await driver.prepare(queue: "default")
        let total = 5_000
        let now = SystemJobClock().nowMillis()
        let jobs = (0..<total).map {
            JobEnvelope(id: .generate(millis: now), kind: "system.noop", payload: Array("{\"tag\":\"n\($0)\"}".utf8), enqueuedAt: now)
        }
        _ = try await driver.enqueue(jobs, queue: "default")

        let (first, _, _) = cli.process(["worker", "--concurrency", "64"])
        try first.run()
        #expect(try await eventually(timeout: .seconds(20)) { try await driver.stats(queue: "default").ready < total - 300 })
        kill(first.processIdentifier, SIGTERM)
        try await waitForExit(first)
        #expect(first.terminationStatus == 0)
        let afterStop = try await driver.stats(queue: "default")
        // Everything the first worker took, it finished and acked before exiting.
        #expect(afterStop.inFlight == 0)
        #expect(afterStop.consumers == 0)

        let (second, _, _) = cli.process(["worker", "--concurrency", "64"])
        try second.run()
        #expect(try await eventually(timeout: .seconds(30)) { try await driver.stats(queue: "default").ready == 0 })
        kill(second.processIdentifier, SIGINT)
        try await waitForExit(second)
        #expect(second.terminationStatus == 0)
        let end = try await driver.stats(queue: "default")
        #expect(end.inFlight == 0 && end.dead == 0 && end.delayed == 0)
        var succeeded = 0
        for chunk in stride(from: 0, to: total, by: 1000) {
            let commands = jobs[chunk..<min(chunk + 1000, total)].map {
                RedisCommand("HGET", driver.keys.job("default", $0.id), "status")
            }
            succeeded += try await driver.connection.pipeline(commands).filter { $0.string == "succeeded" }.count
        }
        #expect(succeeded == total)
    }
}

@Suite("thepred telegram, as a process", .serialized)
struct TelegramCommandTests {
    @Test("each class's backlog, by its own queue")
    func backlogs() async throws {
        let cli = try CLI()
        let payload = #"{"telegram_id":5,"kind":"BET_WON","text":"won","parse_mode":"HTML"}"#
        for _ in 0..<3 { #expect(try await cli.run("enqueue", "telegram.send.results", "--payload", payload).status == 0) }
        #expect(try await cli.run("enqueue", "telegram.send.bulk", "--payload", payload, "--delay", "600").status == 0)
        let rows = try #require(try await cli.json("telegram", "--json") as? [[String: Any]])
        let byClass = Dictionary(uniqueKeysWithValues: rows.compactMap { row in (row["priority"] as? String).map { ($0, row) } })
        #expect(byClass["results"]?["backlog"] as? Int == 3 && byClass["results"]?["queue"] as? String == "telegram-results")
        #expect(byClass["bulk"]?["delayed"] as? Int == 1)
        #expect(byClass["interactive"]?["backlog"] as? Int == 0)
        let table = try await cli.run("telegram")
        #expect(table.out.contains("results") && table.out.contains("stalled"), "nothing ended yet, so no rate: \(table.out)")
    }
}

extension CLITests {
    @Test("the front's secrets from files: unreadable, empty or short ones are refused before it starts")
    func secretFiles() async throws {
        let cli = try CLI()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thepred-secrets-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bot = dir.appendingPathComponent("bot").path
        let empty = dir.appendingPathComponent("empty").path
        let short = dir.appendingPathComponent("short").path
        try "123:abc\n".write(toFile: bot, atomically: true, encoding: .utf8)
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        try "only-12-char\n".write(toFile: short, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--telegram-bot-token-file", dir.appendingPathComponent("nope").path], "cannot read --telegram-bot-token-file"),
            (["--telegram-bot-token-file", empty], "is empty"),
            (["--telegram-bot-token-file", bot, "--admin-token-file", short], "at least 16 characters"),
            (["--telegram-bot-token-file", bot, "--telegram-bot-token", "123:abc"], "not both"),
        ]
        for (args, message) in cases {
            let r = try await cli.run(["front", "--port", "1"] + args)
            #expect(r.status != 0 && r.err.contains(message), "\(args): \(r.err)")
        }
    }
}

@Suite("thepred services, signalled while they start")
struct StartupSignalTests {
    @Test("a worker SIGTERMed while it still connects exits 0 instead of dying of the signal")
    func sigtermWhileConnecting() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let cli = try CLI()
        let (worker, _, err) = cli.process(["worker"])
        var env = worker.environment ?? [:]
        // A server that takes the connection and never answers keeps the worker in its start.
        env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:\(silent.port)/thepred"
        env["LOG_LEVEL"] = "info"
        worker.environment = env
        try worker.run()
        let stderr = Thread.detachedRead(err)
        try await Task.sleep(for: .milliseconds(700))
        #expect(worker.isRunning)
        kill(worker.processIdentifier, SIGTERM)
        try await waitForExit(worker, timeout: .seconds(5))
        #expect(worker.terminationReason == .exit)
        #expect(worker.terminationStatus == 0)
        #expect(String(decoding: stderr(), as: UTF8.self).contains("SIGTERM while starting"))
    }
}
