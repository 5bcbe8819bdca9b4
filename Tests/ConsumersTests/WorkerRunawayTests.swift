import Foundation
import Jobs
import JobsWorker
import Producers
import Synchronization
import TestSupport
import Testing

/// Issue 26, finding 9: a handler that ignores its cancellation held its slot, and its job, for
/// ever: the watchdog cancelled it and then waited for a return that never came.
@Suite("Worker: handlers that ignore cancellation")
struct WorkerRunawayTests {
    @Test("a handler that ignores its cancellation is given up: its job times out and its slot runs the next job")
    func runawayGivenUp() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>(
            "test.runaway", queue: queue, retry: .fixed(maxAttempts: 2, delay: .seconds(60)), timeout: .milliseconds(100))
        let returned = Mutex(false)
        var handlers = JobHandlers()
        try handlers.register(kind) { work, _ in
            guard work.n == 1 else { return }
            // Deaf to cancellation for 3 s, as a handler stuck in a call that does not check it.
            try await blockingCall(.seconds(3))
            returned.withLock { $0 = true }
        }
        let client = JobClient(driver: driver)
        let runaway = try await client.enqueue(kind, Work(n: 1)).id
        let next = try await client.enqueue(kind, Work(n: 2)).id
        var c = config(queue, concurrency: 1)
        c.runawayAfter = .milliseconds(300)
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: c)
        let nextBeforeReturn = Mutex(false)
        try await runWorker(worker) {
            let done = try await driver.job(next, queue: queue)?.status == .succeeded
            if done && !returned.withLock({ $0 }) { nextBeforeReturn.withLock { $0 = true } }
            return done
        }
        #expect(nextBeforeReturn.withLock { $0 }, "the slot waited for the handler to return")
        let record = try #require(try await driver.job(runaway, queue: queue))
        #expect(record.status == .retrying)
        #expect(record.lastError?.contains("timed out") == true)
    }
}
