import Foundation
import TestSupport
import Testing

/// Where `thepred` takes a token from: the command line (`--x` or `--x-file`, not both), then
/// `X_FILE`, then `X`. Before, `--x` with `X_FILE` in the environment was an error, and
/// `init-data` and `fake-telegram` did not read `TELEGRAM_BOT_TOKEN_FILE`. Only the running worker
/// needs the test Redis and PostgreSQL; every other case ends in validation or uses neither.
@Suite("thepred secret options: the command line over the environment")
struct SecretOptionTests {
    /// A fresh folder for token files; the caller removes it.
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thepred-secret-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` to `name` in `dir` and returns its path.
    static func write(_ dir: URL, _ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `thepred` with `env` as the only token variables: the caller's are dropped. A command
    /// that passed its validation by mistake (a server) is stopped after 10 s and fails the test.
    static func run(_ args: [String], env: [String: String] = [:]) async throws -> Run {
        let p = Process()
        p.executableURL = thepredBinary
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasSuffix("_TOKEN") && !$0.key.hasSuffix("_TOKEN_FILE") }
        environment["LOG_LEVEL"] = "warning"
        environment.merge(env) { $1 }
        p.environment = environment
        let (out, err) = (Pipe(), Pipe())
        p.standardOutput = out
        p.standardError = err
        let run = try await offPool { () throws -> Run in
            try p.run()
            let (o, e) = (Thread.detachedRead(out), Thread.detachedRead(err))
            let deadline = Date().addingTimeInterval(10)
            while p.isRunning && Date() < deadline { usleep(5_000) }
            if p.isRunning { p.terminate() }
            p.waitUntilExit()
            return Run(status: p.terminationStatus, out: String(decoding: o(), as: UTF8.self), err: String(decoding: e(), as: UTF8.self))
        }
        #expect(p.terminationReason == .exit, "\(args) still ran after 10 s")
        return run
    }

    /// `init-data` under `env` and with the token given as `--telegram-bot-token expected` alone
    /// print the same line (the hash is the token's) when both are signed in the same second.
    static func signsWith(_ expected: String, _ args: [String], env: [String: String]) async throws -> Bool {
        let base = ["init-data", "--user", "7"]
        for _ in 0..<5 {
            let got = try await run(base + args, env: env)
            let reference = try await run(base + ["--telegram-bot-token", expected])
            #expect(got.status == 0 && reference.status == 0, "\(got.err) \(reference.err)")
            func date(_ s: String) -> Substring? { s.split(separator: "&").first { $0.hasPrefix("auth_date=") } }
            // Signed in different seconds: the lines differ whatever the token; once more.
            guard date(got.out) == date(reference.out) else { continue }
            return got.out == reference.out
        }
        Issue.record("init-data never signed twice within one second")
        return false
    }

    @Test("init-data: an argument or a file on the command line wins over TELEGRAM_BOT_TOKEN_FILE and TELEGRAM_BOT_TOKEN")
    func initDataPrecedence() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fromEnvFile = try Self.write(dir, "env", "111:from-env-file\n")
        let fromArgFile = try Self.write(dir, "arg", "222:from-arg-file\n")
        let both = ["TELEGRAM_BOT_TOKEN_FILE": fromEnvFile, "TELEGRAM_BOT_TOKEN": "333:from-env"]
        #expect(try await Self.signsWith("444:from-arg", ["--telegram-bot-token", "444:from-arg"], env: both))
        #expect(try await Self.signsWith("222:from-arg-file", ["--telegram-bot-token-file", fromArgFile], env: both))
        // Without anything on the command line the file's variable comes first, then the token's.
        #expect(try await Self.signsWith("111:from-env-file", [], env: both))
        #expect(try await Self.signsWith("333:from-env", [], env: ["TELEGRAM_BOT_TOKEN": "333:from-env"]))
        // Both on the command line is still an error, whatever the environment holds.
        let twice = try await Self.run([
            "init-data", "--user", "7", "--telegram-bot-token", "1:a", "--telegram-bot-token-file", fromArgFile,
        ])
        #expect(twice.status != 0 && twice.err.contains("not both"), "\(twice.err)")
        let missing = try await Self.run(["init-data", "--user", "7"], env: ["TELEGRAM_BOT_TOKEN_FILE": dir.path + "/nope"])
        #expect(missing.status != 0 && missing.err.contains("cannot read TELEGRAM_BOT_TOKEN_FILE"), "\(missing.err)")
    }

    /// The admin token's length is checked in `validate`, so which token was taken shows without
    /// starting the front.
    @Test("front: --admin-token and --admin-token-file win over ADMIN_TOKEN_FILE and ADMIN_TOKEN")
    func frontPrecedence() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = try Self.write(dir, "long", "a-long-enough-admin-token\n")
        let short = try Self.write(dir, "short", "too-short\n")
        let front = ["front", "--port", "1", "--telegram-bot-token", "123:abc"]
        let envLong = ["ADMIN_TOKEN_FILE": long, "ADMIN_TOKEN": "another-long-enough-token", "TELEGRAM_BOT_TOKEN_FILE": long]
        for args in [["--admin-token", "too-short"], ["--admin-token-file", short]] {
            let r = try await Self.run(front + args, env: envLong)
            #expect(r.status != 0 && r.err.contains("at least 16 characters"), "\(args): \(r.err)")
        }
        // And the environment's short token is refused when nothing on the command line overrides it.
        let r = try await Self.run(front, env: ["ADMIN_TOKEN_FILE": short])
        #expect(r.status != 0 && r.err.contains("at least 16 characters"), "\(r.err)")
    }

    @Test("worker: --telegram-bot-token wins over TELEGRAM_BOT_TOKEN_FILE, whose file is then not read")
    func workerPrecedence() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A token with a slash is refused in validate: the argument is the one checked.
        let r = try await Self.run(
            ["worker", "--telegram-bot-token", "bad/token"], env: ["TELEGRAM_BOT_TOKEN_FILE": dir.path + "/nope"])
        #expect(r.status != 0 && r.err.contains("looks wrong"), "\(r.err)")
        let unreadable = try await Self.run(["worker"], env: ["TELEGRAM_BOT_TOKEN_FILE": dir.path + "/nope"])
        #expect(unreadable.status != 0 && unreadable.err.contains("cannot read TELEGRAM_BOT_TOKEN_FILE"), "\(unreadable.err)")
    }

    /// The worker reads its token once, in `validate`, and keeps it for `run` (before, it read the
    /// file again there and took a failure for no token). Were the value lost on the way, the worker
    /// would start without Telegram and say the token is not set.
    @Test("worker: the token read from TELEGRAM_BOT_TOKEN_FILE at start is the one it runs with")
    func workerKeepsTheToken() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try Self.write(dir, "bot", "123:from-file\n")
        let (worker, _, err) = try CLI().process(["worker", "--metrics-port", "0", "--concurrency", "1"])
        var env = (worker.environment ?? [:]).filter { !$0.key.hasPrefix("TELEGRAM_BOT_TOKEN") }
        env["TELEGRAM_BOT_TOKEN_FILE"] = file
        env["LOG_LEVEL"] = "info"
        worker.environment = env
        let log = DataBox()
        err.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if !chunk.isEmpty { log.set(log.get() + chunk) }
        }
        try worker.run()
        defer { if worker.isRunning { worker.terminate() } }
        var text = ""
        for _ in 0..<500 where !text.contains("worker started") {
            try await Task.sleep(for: .milliseconds(20))
            text = String(decoding: log.get(), as: UTF8.self)
        }
        kill(worker.processIdentifier, SIGTERM)
        try await waitForExit(worker)
        #expect(text.contains("telegram delivery on") && !text.contains("is not set"), "\(text)")
    }

    @Test("fake-telegram reads TELEGRAM_BOT_TOKEN_FILE, and --token wins over it")
    func fakeTelegramFile() async throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A token with a slash is refused before the server starts: which one was taken shows.
        let slashed = try Self.write(dir, "slashed", "bad/token\n")
        let fromFile = try await Self.run(["fake-telegram", "--port", "0"], env: ["TELEGRAM_BOT_TOKEN_FILE": slashed])
        #expect(fromFile.status != 0 && fromFile.err.contains("without '/'"), "\(fromFile.err)")
        let missing = try await Self.run(["fake-telegram", "--port", "0"], env: ["TELEGRAM_BOT_TOKEN_FILE": dir.path + "/nope"])
        #expect(missing.status != 0 && missing.err.contains("cannot read TELEGRAM_BOT_TOKEN_FILE"), "\(missing.err)")
        let overridden = try await Self.run(
            ["fake-telegram", "--port", "0", "--token", "bad/too"], env: ["TELEGRAM_BOT_TOKEN_FILE": dir.path + "/nope"])
        #expect(overridden.status != 0 && overridden.err.contains("without '/'"), "\(overridden.err)")
    }
}
