import Foundation

/// The payload of benchmark jobs: when it was sent, in microseconds, for latency.
struct BenchPayload: Codable, Sendable {
    var sentMicros: Int64
}

/// The wall clock, as `BenchPayload.sentMicros` holds it.
func nowMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
