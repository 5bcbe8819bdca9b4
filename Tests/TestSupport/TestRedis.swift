import Foundation
import Jobs
import JobsRedis
import Synchronization

/// The Redis server integration tests use: THEPRED_TEST_REDIS_URL (set by ops/test), or else a
/// redis-server this process starts on a free loopback port and stops at exit.
public enum TestRedis {
    private static let started = Mutex<String?>(nil)

    public static func url() throws -> String {
        if let url = ProcessInfo.processInfo.environment["THEPRED_TEST_REDIS_URL"] { return url }
        return try started.withLock { url in
            if let url { return url }
            let port = 20_000 + Int(getpid() % 20_000)
            _ = try startRedisServer(port: port)
            Thread.sleep(forTimeInterval: 0.3)
            url = "redis://127.0.0.1:\(port)/0"
            return url!
        }
    }

    /// Starts a throwaway redis-server on 127.0.0.1:`port`, without persistence.
    public static func startRedisServer(port: Int) throws -> Process {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thepred-redis-\(port)-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--bind", "127.0.0.1", "--port", "\(port)", "--dir", dir.path, "--save", "", "--appendonly", "no"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A driver whose keys live under a fresh prefix, so tests never see each other's data.
    public static func driver(
        clock: any JobClock = SystemJobClock(), statusRetention: Duration = .seconds(3600), deadLetterLimit: Int = 100_000
    ) throws -> RedisQueueDriver {
        var config = RedisQueueDriver.Configuration(
            redis: try RedisConfiguration(url: url()), keys: RedisKeys(prefix: "test-\(UInt64.random(in: 0 ... .max))"),
            statusRetention: statusRetention)
        config.deadLetterLimit = deadLetterLimit
        return RedisQueueDriver(configuration: config, clock: clock)
    }
}

/// A fresh queue name.
public func uniqueQueue(_ base: String = "q") -> QueueName {
    try! QueueName(validating: "\(base)-\(UInt32.random(in: 0 ... .max))")
}

/// Polls `condition` every `every` until it holds or `timeout` passes.
public func eventually(
    timeout: Duration = .seconds(5), every: Duration = .milliseconds(10), _ condition: @Sendable () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: every)
    }
    return try await condition()
}

/// Runs blocking work (waiting for a process, reading its pipes) on a thread of its own, so it
/// never holds one of the cooperative pool's threads (two, on a 2-core machine).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Waits for a child process to end by polling, off the cooperative pool.
///
/// Foundation's `waitUntilExit()` spins on an empty run loop when called off the main thread.
public func waitForExit(_ process: Process, timeout: Duration = .seconds(60)) async throws {
    try await offPool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { usleep(10_000) }
        }
    }
}
