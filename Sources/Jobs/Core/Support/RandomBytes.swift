import Foundation
import Synchronization

/// Random bytes from the kernel's generator, read 4 KB at a time: a job id needs 10 of them, and a
/// system call per id (Swift's `SystemRandomNumberGenerator` makes one per 8 bytes) would cost
/// about 0.8 µs on the enqueue path. The pool is refilled from `/dev/urandom`; if that cannot be
/// read, from `SystemRandomNumberGenerator`, which asks the same generator.
enum RandomBytes {
    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var used = 4096
        var file: FileHandle? = FileHandle(forReadingAtPath: "/dev/urandom")

        mutating func refill() {
            if let file, let data = try? file.read(upToCount: bytes.count), data.count == bytes.count {
                bytes = Array(data)
            } else {
                var generator = SystemRandomNumberGenerator()
                for i in stride(from: 0, to: bytes.count, by: 8) {
                    withUnsafeBytes(of: generator.next()) { word in
                        for j in 0..<8 { bytes[i + j] = word[j] }
                    }
                }
            }
            used = 0
        }
    }

    private static let pool = Mutex(Pool())

    /// Eighty random bits: the high 16 and the low 64.
    static func eightyBits() -> (high: UInt16, low: UInt64) {
        pool.withLock { pool in
            if pool.used + 10 > pool.bytes.count { pool.refill() }
            var high: UInt16 = 0
            var low: UInt64 = 0
            for i in 0..<2 { high = high << 8 | UInt16(pool.bytes[pool.used + i]) }
            for i in 2..<10 { low = low << 8 | UInt64(pool.bytes[pool.used + i]) }
            // Each byte is handed out once.
            for i in 0..<10 { pool.bytes[pool.used + i] = 0 }
            pool.used += 10
            return (high, low)
        }
    }
}
