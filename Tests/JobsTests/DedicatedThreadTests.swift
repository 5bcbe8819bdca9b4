import Foundation
import Jobs
import Synchronization
import Testing

@Suite("Dedicated thread")
struct DedicatedThreadTests {
    @Test("processes items in order on one thread of its own, drains on close, finishes once, then refuses items")
    func lifecycle() async throws {
        let seen = Mutex<[Int]>([])
        let finished = Mutex(0)
        let threads = Mutex(Set<UInt>())
        let thread = DedicatedThread<Int>(
            name: "test",
            process: { batch in
                threads.withLock { _ = $0.insert(UInt(pthread_self())) }
                seen.withLock { $0 += batch }
            },
            finish: { finished.withLock { $0 += 1 } })
        for i in 0..<1000 { #expect(thread.submit(i)) }
        thread.close()
        #expect(!thread.submit(1000))
        let deadline = ContinuousClock.now + .seconds(5)
        while finished.withLock({ $0 }) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(seen.withLock { $0 } == Array(0..<1000))
        #expect(finished.withLock { $0 } == 1)
        #expect(threads.withLock { $0.count } == 1)
        #expect(!threads.withLock { $0.contains(UInt(pthread_self())) })
    }
}
