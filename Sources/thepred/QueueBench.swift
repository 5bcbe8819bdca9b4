import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import JobsWorker
import Logging
import Producers
import ServiceLifecycle
import Synchronization

struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Measure the Redis driver: bulk enqueue rate, end-to-end no-op job rate, enqueue-to-start latency.",
        discussion: """
            Runs in three phases against the Redis at --redis-url, under a throwaway key prefix that is
            deleted afterwards: (1) producers bulk-enqueue --jobs no-op jobs; (2) one in-process worker
            with --concurrency slots drains them; (3) a producer paces jobs at --latency-rate for
            --latency-seconds while the worker runs, and the time from enqueue to handler start is reported.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Jobs to enqueue and process.") var jobs = 200_000
    @Option(help: "Worker concurrency (jobs in flight at once).") var concurrency = 256
    @Option(help: "Concurrent producer tasks for the bulk enqueue.") var producers = 2
    @Option(help: "Jobs per enqueue call.") var batch = 5_000
    @Option(help: "Jobs/s offered in the latency phase; 0 means half the measured drain rate.") var latencyRate = 0
    @Option(help: "Seconds of the latency phase.") var latencySeconds = 5
    @Flag(help: "Record the worker's figures into a Prometheus registry, as `thepred worker` does (off: swift-metrics' no-op backend).")
    var metrics = false

    func validate() throws {
        guard jobs >= 1, jobs <= 10_000_000 else { throw ValidationError("--jobs must be within 1...10,000,000") }
        guard concurrency >= 1, producers >= 1, batch >= 1 else { throw ValidationError("counts must be positive") }
        guard (1...120).contains(latencySeconds) else { throw ValidationError("--latency-seconds must be within 1...120") }
    }

    func run() async throws {
        if metrics { _ = ProcessMetrics.bootstrap(role: .worker) }
        let prefix = "thepred-bench-\(UInt32.random(in: 0 ... .max))"
        let redis = try RedisConfiguration(url: global.redisURL)
        let driver = RedisQueueDriver(
            configuration: .init(redis: redis, keys: RedisKeys(prefix: prefix), statusRetention: .seconds(global.statusRetention)),
            logger: global.logger("thepred.redis"))
        do { try await driver.ping() } catch { throw CLIError("cannot reach Redis at \(redis.redactedURL): \(describe(error))") }
        let queue: QueueName = "bench"
        let kind = JobKind<BenchPayload>("bench.noop", queue: queue, retry: .never, timeout: .seconds(30))
        try await driver.prepare(queue: queue)
        let client = JobClient(driver: driver)
        try await printHeader(driver, redis)

        // Phase 1: bulk enqueue.
        let mem0 = try await BenchRedis.redisMemory(driver)
        let cpu0 = try await BenchRedis.redisCPU(driver)
        let enqueueTime = try await enqueueAll(kind, client)
        let cpu1 = try await BenchRedis.redisCPU(driver)
        let mem1 = try await BenchRedis.redisMemory(driver)
        print(
            String(
                format: "enqueue:     %9.0f jobs/s  (%d jobs in %.2f s; redis-server busy %.2f s of it)",
                Double(jobs) / enqueueTime.inSeconds, jobs, enqueueTime.inSeconds, cpu1 - cpu0))

        // Phase 2: drain with one worker; phase 3 offers jobs to the same worker.
        let processed = Atomic<Int>(0)
        let latencies = Mutex<[Int64]>([])
        let measuring = Atomic<Bool>(false)
        var handlers = JobHandlers()
        try handlers.register(kind) { payload, _ in
            if measuring.load(ordering: .relaxed) {
                let waited = nowMicros() - payload.sentMicros
                latencies.withLock { $0.append(waited) }
            }
            processed.add(1, ordering: .relaxed)
        }
        let group = workerGroup(driver, handlers, queue)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let acked = try await drain(driver, queue, processed: processed, cpu: cpu1, memory: (mem0, mem1))
            try await measureLatency(
                kind, client, drainRate: Double(jobs) / acked.inSeconds, processed: processed, measuring: measuring,
                latencies: latencies)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await BenchRedis.deleteKeys(prefix: prefix, driver: driver)
    }

    private func printHeader(_ driver: RedisQueueDriver, _ redis: RedisConfiguration) async throws {
        let info = try await driver.connection.send("INFO", "server").string ?? ""
        let version = info.split(separator: "\r\n").first { $0.hasPrefix("redis_version:") }?.dropFirst(14) ?? "?"
        print(
            "thepred bench queue: \(jobs) jobs, concurrency \(concurrency), \(producers) producers, batch \(batch), metrics \(metrics ? "on" : "off")"
        )
        print(
            "redis \(version) at \(redis.redactedURL), \(ProcessInfo.processInfo.activeProcessorCount) cores, status retention \(global.statusRetention) s"
        )
    }

    /// `--producers` tasks enqueue `--jobs` in batches, interleaved; returns how long it took.
    private func enqueueAll(_ kind: JobKind<BenchPayload>, _ client: JobClient) async throws -> Duration {
        let (jobs, producers, batch) = (jobs, producers, batch)
        let t0 = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<producers {
                group.addTask {
                    var start = p * batch
                    while start < jobs {
                        let count = min(batch, jobs - start)
                        let stamp = nowMicros()
                        try await client.enqueue(kind, [BenchPayload](repeating: BenchPayload(sentMicros: stamp), count: count))
                        start += producers * batch
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - t0
    }

    private func workerGroup(_ driver: RedisQueueDriver, _ handlers: JobHandlers, _ queue: QueueName) -> ServiceGroup {
        var config = WorkerService.Configuration(queues: [queue], consumerName: "bench")
        config.concurrency = concurrency
        config.fetchBatch = max(64, concurrency)
        config.blockFor = .milliseconds(100)
        var logger = global.logger("thepred.worker")
        logger.logLevel = .warning
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config, logger: logger)
        return ServiceGroup(configuration: .init(services: [worker], logger: logger))
    }

    /// Waits until the worker has run every job and acked it, and prints the rate and Redis's
    /// memory; returns the time until the last ack. `cpu` is Redis's after the enqueue, `memory`
    /// before and after it.
    private func drain(
        _ driver: RedisQueueDriver, _ queue: QueueName, processed: borrowing Atomic<Int>, cpu cpu1: Double,
        memory: (before: Int64, queued: Int64)
    ) async throws -> Duration {
        let (mem0, mem1) = memory
        let t1 = ContinuousClock.now
        var lastPrint = t1
        while processed.load(ordering: .relaxed) < jobs {
            try await Task.sleep(for: .milliseconds(2))
            if ContinuousClock.now - lastPrint > .seconds(2) {
                lastPrint = ContinuousClock.now
                FileHandle.standardError.write(Data("  … \(processed.load(ordering: .relaxed))/\(jobs) processed\n".utf8))
            }
        }
        let handled = ContinuousClock.now - t1
        while try await driver.stats(queue: queue).inFlight > 0 { try await Task.sleep(for: .milliseconds(2)) }
        let acked = ContinuousClock.now - t1
        let cpu2 = try await BenchRedis.redisCPU(driver)
        let mem2 = try await BenchRedis.redisMemory(driver)
        print(
            String(
                format: "end to end:  %9.0f jobs/s  (%d no-op jobs run in %.2f s, every ack written at %.2f s; redis-server busy %.2f s)",
                Double(jobs) / handled.inSeconds, jobs, handled.inSeconds, acked.inSeconds, cpu2 - cpu1))

        print(
            String(
                format: "redis memory: +%.1f MB with %d jobs queued (%.0f B/job), +%.1f MB after all ran (%.0f B/job of status records)",
                Double(mem1 - mem0) / 1e6, jobs, Double(mem1 - mem0) / Double(jobs),
                Double(mem2 - mem0) / 1e6, Double(mem2 - mem0) / Double(jobs)))
        return acked
    }

    /// Phase 3: offers jobs at `--latency-rate` (half `drainRate` by default) for `--latency-seconds`,
    /// in ticks of 5 ms, and prints the time from enqueue to handler start.
    private func measureLatency(
        _ kind: JobKind<BenchPayload>, _ client: JobClient, drainRate: Double, processed: borrowing Atomic<Int>,
        measuring: borrowing Atomic<Bool>, latencies: borrowing Mutex<[Int64]>
    ) async throws {
        let rate = latencyRate > 0 ? latencyRate : max(100, Int(drainRate / 2))
        let tickMillis = 5
        let perTick = max(1, rate * tickMillis / 1000)
        measuring.store(true, ordering: .relaxed)
        let before = processed.load(ordering: .relaxed)
        let t2 = ContinuousClock.now
        var sent = 0
        var next = t2
        while ContinuousClock.now - t2 < .seconds(latencySeconds) {
            try await client.enqueue(kind, [BenchPayload](repeating: BenchPayload(sentMicros: nowMicros()), count: perTick))
            sent += perTick
            next = next + .milliseconds(tickMillis)
            let wait = next - ContinuousClock.now
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        while processed.load(ordering: .relaxed) - before < sent { try await Task.sleep(for: .milliseconds(2)) }
        let achieved = Double(sent) / (ContinuousClock.now - t2).inSeconds
        let sorted = latencies.withLock { $0 }.sorted()
        func pct(_ p: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000 }
        print(
            String(
                format: "latency:     p50 %.2f ms  p99 %.2f ms  max %.2f ms  (enqueue to start; %d jobs offered at %.0f jobs/s)",
                pct(0.50), pct(0.99), pct(1.0), sorted.count, achieved))
    }
}
