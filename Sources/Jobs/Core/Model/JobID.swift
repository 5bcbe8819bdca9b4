import Synchronization

/// A job's id: a ULID (26 characters of Crockford base32), sortable by creation time.
///
/// Ids are made from a random 80-bit value chosen once per process and a counter, so making one
/// costs no system call; collisions would need two processes to pick the same random value.
public struct JobID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }

    private static let seedHigh: UInt16 = UInt16.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(UInt64.random(in: 0...(UInt64.max >> 1)))
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id stamped with `millis` since the epoch.
    public static func generate(millis: Int64) -> JobID {
        let low = counter.wrappingAdd(1, ordering: .relaxed).newValue
        // 128 bits: 48 bits of time, 16 random bits, 64 bits of counter.
        let hi = (UInt64(truncatingIfNeeded: millis) << 16) | UInt64(seedHigh)
        var chars = [UInt8](repeating: 0, count: 26)
        // Encode 130 bits (two leading zero bits) as 26 base32 digits, last digit first.
        var lo = low
        var high = hi
        for i in stride(from: 25, through: 0, by: -1) {
            chars[i] = alphabet[Int(lo & 31)]
            lo = (lo >> 5) | ((high & 31) << 59)
            high >>= 5
        }
        return JobID(rawValue: String(decoding: chars, as: UTF8.self))
    }

    /// Whether `text` has the shape of a job id.
    public static func looksValid(_ text: String) -> Bool {
        text.utf8.count == 26 && text.utf8.allSatisfy { alphabet.contains($0) }
    }
}
