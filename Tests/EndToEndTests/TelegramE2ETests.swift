import FakeTelegram
import Foundation
import Jobs
import TestSupport
import Testing

/// Broadcasts through real worker and scheduler processes, Redis, PostgreSQL, and the fake Bot API.
@Suite("Telegram delivery, as processes", .serialized, .enabled(if: TestPostgres.available), .timeLimit(.minutes(3)))
struct TelegramE2ETests {
    /// A migrated database of its own with `users` seeded users, for one test.
    static func database(users: Int) async throws -> String {
        let name = "e2e_tg_\(UInt32.random(in: 0 ... .max))"
        let server = try #require(TestPostgres.serverURL)
        let create = try await Self.psql([server, "-q", "-c", "CREATE DATABASE \(name)"])
        #expect(create.status == 0, "\(create.err)")
        let url = TestPostgres.url(database: name)
        let cli = try CLI()
        let migrate = try await cli.run(["migrate", "--database-url", url], redis: false)
        #expect(migrate.status == 0, "\(migrate.err)")
        let seed = try await cli.run(["seed", "--database-url", url, "--users", "\(users)", "--markets", "1", "--bets", "0"], redis: false)
        #expect(seed.status == 0, "\(seed.err)")
        return url
    }

    /// psql, to make the database.
    static func psql(_ args: [String]) async throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        return try await Run.toEnd(p, out, err)
    }

    /// A worker (or scheduler) process sending to the fake server on `port`.
    static func start(_ cli: CLI, _ args: [String], database: String, port: Int, in fleet: Fleet? = nil) throws -> Process {
        let (p, _, _) = cli.process(args + (args.first == "worker" ? ["--database-url", database] : []))
        var env = p.environment ?? [:]
        env["TELEGRAM_API_BASE"] = "http://127.0.0.1:\(port)"
        env["TELEGRAM_BOT_TOKEN"] = "test-token"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        // THEPRED_TEST_PROCESS_LOGS=<dir> keeps each process's log there, for a failing test.
        if let dir = ProcessInfo.processInfo.environment["THEPRED_TEST_PROCESS_LOGS"] {
            let path = "\(dir)/\(args[0])-\(UInt32.random(in: 0 ... .max)).log"
            FileManager.default.createFile(atPath: path, contents: nil)
            if let log = FileHandle(forWritingAtPath: path) {
                p.standardError = log
                env["LOG_LEVEL"] = "info"
                p.environment = env
            }
        }
        try p.run()
        _ = fleet?.add(p)
        return p
    }

    static func stop(_ processes: [Process]) async throws {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in processes { try await waitForExit(p) }
    }

    static func broadcast(_ cli: CLI, database: String, _ extra: String...) async throws -> [String: Any] {
        let made = try await cli.run(
            ["broadcasts", "create", "--database-url", database, "--text", "Season <b>two</b> starts", "--json"] + extra)
        #expect(made.status == 0, "\(made.err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(made.out.utf8)) as? [String: Any])
    }

    /// The recipients once the fan-out has queued them all.
    static func total(_ cli: CLI, database: String, _ id: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let shown = try await Self.show(cli, database: database, id)
            if shown["fanout_done"] as? Bool == true, let total = shown["total"] as? Int { return total }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the fan-out of broadcast \(id) did not finish")
        return -1
    }

    static func show(_ cli: CLI, database: String, _ id: Int) async throws -> [String: Any] {
        let shown = try await cli.run(["broadcasts", "show", "\(id)", "--database-url", database, "--json"], redis: false)
        return try #require(try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any])
    }

    @Test("two worker processes together stay within 30 messages in any one second, and reach everyone once")
    func twoWorkersShareTheLimit() async throws {
        let database = try await Self.database(users: 100)
        try await FakeTelegramServer.withRunning { (server, port) async throws in
            let cli = try CLI()
            let fleet = Fleet()
            defer { fleet.killAll() }
            let made = try await Self.broadcast(cli, database: database)
            let id = try #require(made["id"] as? Int)
            // The scheduler promotes snoozed jobs, as in production.
            let workers =
                try [Self.start(cli, ["scheduler"], database: database, port: port, in: fleet)]
                + (1...2).map { _ in
                    try Self.start(
                        cli, ["worker", "--queues", "broadcasts,telegram,telegram-bulk", "--concurrency", "16"], database: database,
                        port: port, in: fleet)
                }
            let total = try await Self.total(cli, database: database, id)
            #expect(total > 80, "seeded users who are not banned")
            let arrived = try await eventually(timeout: .seconds(40)) { server.messages().count >= total }
            try await Task.sleep(for: .milliseconds(300))
            try await Self.stop(workers)
            #expect(arrived)
            let messages = server.messages()
            #expect(messages.count == total)
            #expect(Set(messages.map(\.chatID)).count == total, "nobody twice")
            let busiest = FakeTelegramServer.busiestSecond(of: messages)
            #expect(busiest <= 30, "at most 30 in any second, not \(busiest)")
            #expect(server.stats().tooManyRequests == 0, "our own pacing never drew a 429")
            let span = messages.last!.at - messages.first!.at
            #expect(span > .milliseconds(Int64(total - 1) * 1000 / 30), "\(total) messages at 30/s cannot take \(span)")
            let shown = try await Self.show(cli, database: database, id)
            #expect(shown["status"] as? String == "COMPLETED" && shown["sent"] as? Int == total)
        }
    }

    @Test("a worker killed mid-broadcast: its jobs are reclaimed and nobody gets a message twice")
    func killedWorker() async throws {
        let database = try await Self.database(users: 60)
        try await FakeTelegramServer.withRunning { (server, port) async throws in
            let cli = try CLI()
            let fleet = Fleet()
            defer { fleet.killAll() }
            let made = try await Self.broadcast(cli, database: database)
            let id = try #require(made["id"] as? Int)
            let scheduler = try Self.start(cli, ["scheduler"], database: database, port: port, in: fleet)
            // Its lease is 2 s: the jobs it held are reclaimed by its lease, not by the rescuer's.
            let first = try Self.start(
                cli, ["worker", "--queues", "broadcasts,telegram,telegram-bulk", "--concurrency", "16", "--visibility-timeout", "2"],
                database: database, port: port, in: fleet)
            let total = try await Self.total(cli, database: database, id)
            #expect(try await eventually(timeout: .seconds(20)) { server.messages().count >= 20 })
            // Between two sends (they are 34 ms apart), not in the millisecond after one.
            try await Task.sleep(for: .milliseconds(12))
            kill(first.processIdentifier, SIGKILL)
            try await waitForExit(first)
            let before = server.messages().count
            #expect(before < total, "killed before it finished")
            let second = try Self.start(
                cli, ["worker", "--queues", "broadcasts,telegram,telegram-bulk", "--concurrency", "16", "--visibility-timeout", "2"],
                database: database, port: port, in: fleet)
            let done = try await eventually(timeout: .seconds(40)) { server.messages().count >= total }
            try await Task.sleep(for: .seconds(1))
            try await Self.stop([second, scheduler])
            #expect(done)
            let messages = server.messages()
            #expect(messages.count == total, "each of \(total) once, got \(messages.count)")
            #expect(Set(messages.map(\.chatID)).count == total)
            let shown = try await Self.show(cli, database: database, id)
            #expect(shown["status"] as? String == "COMPLETED" && shown["sent"] as? Int == total)
        }
    }

    @Test("a scheduled broadcast starts within a second of its time")
    func scheduled() async throws {
        let database = try await Self.database(users: 3)
        try await FakeTelegramServer.withRunning { (server, port) async throws in
            let cli = try CLI()
            let fleet = Fleet()
            defer { fleet.killAll() }
            let made = try await Self.broadcast(cli, database: database, "--at", "3s")
            let id = try #require(made["id"] as? Int)
            let at = try #require(made["scheduled_at_ms"] as? Int)
            #expect(made["status"] as? String == "PENDING")
            let processes = [
                try Self.start(cli, ["scheduler"], database: database, port: port, in: fleet),
                try Self.start(
                    cli, ["worker", "--queues", "broadcasts,telegram,telegram-bulk"], database: database, port: port, in: fleet),
            ]
            try await Task.sleep(for: .seconds(1))
            #expect(server.messages().isEmpty, "not before its time")
            #expect(try await Self.show(cli, database: database, id)["status"] as? String == "PENDING")
            let arrived = try await eventually(timeout: .seconds(15)) { server.messages().count >= 3 }
            try await Self.stop(processes)
            #expect(arrived)
            let first = try #require(server.messages().first)
            #expect(first.unixMillis >= Int64(at), "not early")
            #expect(first.unixMillis - Int64(at) < 1_000, "late by \(first.unixMillis - Int64(at)) ms")
        }
    }
}

@Suite("Telegram priority classes, as processes", .serialized, .enabled(if: TestPostgres.available), .timeLimit(.minutes(3)))
struct TelegramPriorityE2ETests {
    @Test("while a free broadcast fills the lane, interactive messages arrive within 2 s and the broadcast keeps going")
    func interactiveBeforeBulk() async throws {
        let database = try await TelegramE2ETests.database(users: 400)
        try await FakeTelegramServer.withRunning { (server, port) async throws in
            let cli = try CLI()
            let started = Fleet()
            defer { started.killAll() }
            let made = try await TelegramE2ETests.broadcast(cli, database: database)
            #expect(made["id"] is Int)
            let fleet = [
                try TelegramE2ETests.start(cli, ["scheduler"], database: database, port: port, in: started),
                try TelegramE2ETests.start(
                    cli, ["worker", "--queues", "broadcasts,telegram,telegram-bulk", "--concurrency", "32"], database: database, port: port,
                    in: started),
            ]
            // The broadcast has the lane to itself first.
            #expect(try await eventually(timeout: .seconds(20)) { server.messages().count >= 30 })
            var latencies: [Int64] = []
            for i in 0..<5 {
                let chat = Int64(900_001 + i)
                let asked = Int64(Date().timeIntervalSince1970 * 1000)
                let payload = #"{"telegram_id":\#(chat),"kind":"SYSTEM","text":"your bet is in","parse_mode":"HTML"}"#
                let enqueued = try await cli.run("enqueue", "telegram.send", "--payload", payload)
                #expect(enqueued.status == 0, "\(enqueued.err)")
                #expect(try await eventually(timeout: .seconds(5)) { !server.messages(chatID: chat).isEmpty })
                if let sent = server.messages(chatID: chat).first { latencies.append(sent.unixMillis - asked) }
                try await Task.sleep(for: .milliseconds(700))
            }
            let bulkDuring = server.messages().filter { !(900_001...900_005).contains($0.chatID) }.count
            try await TelegramE2ETests.stop(fleet)
            #expect(latencies.count == 5)
            #expect(latencies.allSatisfy { $0 < 2_000 }, "enqueue to arrival, ms: \(latencies)")
            #expect(bulkDuring > 100, "the broadcast kept sending meanwhile: \(bulkDuring) messages")
            #expect(server.stats().tooManyRequests == 0, "our own pacing never drew a 429")
            #expect(FakeTelegramServer.busiestSecond(of: server.messages()) <= 30)
        }
    }
}
