import JobsRedis
import Synchronization

/// The most memory redis-server had allocated while it ran, read every 50 ms over a connection
/// of its own, so that a benchmark's peak is measured, not guessed from its end.
final class RedisMemorySampler: Sendable {
    private final class Peak: Sendable {
        let bytes = Mutex<Int64>(0)
    }

    private let peak = Peak()
    private let task: Task<Void, Never>

    init(redis: RedisConfiguration, keys: RedisKeys) {
        let peak = self.peak
        task = Task {
            let driver = RedisQueueDriver(configuration: .init(redis: redis, keys: keys))
            while !Task.isCancelled {
                if let bytes = try? await BenchRedis.redisMemory(driver) { peak.bytes.withLock { $0 = max($0, bytes) } }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Stops sampling; returns the peak in bytes.
    func stop() async -> Int64 {
        task.cancel()
        await task.value
        return peak.bytes.withLock { $0 }
    }
}
