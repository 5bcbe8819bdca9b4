/// A job's id: a ULID (26 characters of Crockford base32), sortable by creation time.
///
/// 48 bits of milliseconds, then 80 random bits drawn afresh for every id, so that ids a user
/// sees say nothing about how many jobs were made in between, and cannot be guessed. Ids made in
/// the same millisecond are not ordered among themselves.
public struct JobID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
    public static func < (a: JobID, b: JobID) -> Bool { a.rawValue < b.rawValue }

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id stamped with `millis` since the epoch.
    public static func generate(millis: Int64) -> JobID {
        let random = RandomBytes.eightyBits()
        // 128 bits: 48 bits of time and 16 random bits, then 64 random bits.
        let hi = (UInt64(truncatingIfNeeded: millis) << 16) | UInt64(random.high)
        var chars = [UInt8](repeating: 0, count: 26)
        // Encode 130 bits (two leading zero bits) as 26 base32 digits, last digit first.
        var lo = random.low
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
