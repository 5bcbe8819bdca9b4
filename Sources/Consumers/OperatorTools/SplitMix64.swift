/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator whose output depends only on
/// its seed, on every platform and Swift version, which is what reproducible seed data needs.
/// Not for anything secret.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound`, without modulo bias (Lemire's multiply-and-reject). The standard
    /// library's `random(in:using:)` is not used: its algorithm may change between releases.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let n = UInt64(bound)
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return Int(m.high)
    }

    /// Uniform in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `perMille` / 1000.
    public mutating func chance(perMille: Int) -> Bool { below(1000) < perMille }

    /// A generator for one purpose, independent of the others drawn from the same seed, so
    /// changing how one part of the data is drawn leaves the others as they were.
    public static func stream(_ seed: UInt64, _ purpose: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (purpose &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
