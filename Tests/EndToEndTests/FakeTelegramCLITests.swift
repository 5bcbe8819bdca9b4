import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `thepred fake-telegram` as ops/dev and benchmarks start it. Needs neither Redis nor PostgreSQL.
@Suite struct FakeTelegramCLITests {
    @Test func helpDocumentsOptionsAndControlEndpoints() async throws {
        let (status, out) = try await offPool { () throws -> (Int32, String) in
            let p = Process()
            p.executableURL = thepredBinary
            p.arguments = ["fake-telegram", "--help"]
            var env = ProcessInfo.processInfo.environment
            env["TELEGRAM_BOT_TOKEN"] = "555:not-for-help"
            p.environment = env
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(status == 0)
        for needle in [
            "--host", "--port", "--token", "TELEGRAM_BOT_TOKEN", "--global-rate", "--paid-rate", "--blocked", "--unknown",
            "--failure-rate", "--slow-rate", "/fake/messages", "/fake/stats", "/fake/reset", "/fake/config",
        ] {
            #expect(out.contains(needle), "help lacks \(needle)")
        }
        // --help prints defaults; the token must not be one of them.
        #expect(!out.contains("not-for-help"))
    }

    @Test func servesUntilSIGTERMAndNeverLogsTheToken() async throws {
        let p = Process()
        p.executableURL = thepredBinary
        p.arguments = ["fake-telegram", "--port", "0", "--blocked", "42"]
        var env = ProcessInfo.processInfo.environment
        env["TELEGRAM_BOT_TOKEN"] = "777:from-the-environment"
        env["LOG_LEVEL"] = "info"
        p.environment = env
        let err = Pipe()
        let log = DataBox()
        err.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if !chunk.isEmpty { log.set(log.get() + chunk) }
        }
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        var port: Int?
        for _ in 0..<500 where port == nil {
            try await Task.sleep(for: .milliseconds(20))
            let text = String(decoding: log.get(), as: UTF8.self)
            if let range = text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last ?? "")
            }
        }
        let bound = try #require(port, "no start line: \(String(decoding: log.get(), as: UTF8.self))")

        func send(_ chat: Int, token: String) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(bound)/bot\(token)/sendMessage")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"chat_id":\#(chat),"text":"hi","parse_mode":"HTML"}"#.utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        #expect(try await send(1, token: "777:from-the-environment") == 200)
        #expect(try await send(42, token: "777:from-the-environment") == 403)
        #expect(try await send(2, token: "wrong") == 401)

        p.terminate()  // SIGTERM
        let exited = try await offPool { () -> Int32 in
            p.waitUntilExit()
            return p.terminationStatus
        }
        err.fileHandleForReading.readabilityHandler = nil
        #expect(exited == 0)
        let text = String(decoding: log.get(), as: UTF8.self)
        #expect(!text.contains("from-the-environment"))
        #expect(text.split(separator: "\n").count == 1, "more than the start line: \(text)")
    }
}
