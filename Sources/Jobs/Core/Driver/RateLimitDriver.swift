import Foundation

/// A fleet-wide allowance per subject (a user, a client address), kept where every process of
/// the fleet sees it, so a limit holds however many fronts answer.
public protocol RateLimitDriver: Sendable {
    /// Takes one request's place from `subject`'s allowance under `rule`: nil when it may go on,
    /// else how long until one would be allowed. A refused request takes nothing.
    func take(_ subject: String, rule: RateRule) async throws -> Duration?
}

/// So many requests a second on average, with bursts of `burst` at once (a generic cell rate:
/// the allowance refills one request every `1 / perSecond` seconds, up to `burst`).
public struct RateRule: Sendable, Hashable, CustomStringConvertible {
    public let perSecond: Double
    public let burst: Int

    /// Nil unless `perSecond` is 0.001 to a million and `burst` is 1 to a million, so that the
    /// arithmetic in microseconds stays within 2^53 (exact in Redis's Lua doubles).
    public init?(perSecond: Double, burst: Int) {
        guard perSecond >= 0.001, perSecond <= 1_000_000, perSecond.isFinite, (1...1_000_000).contains(burst) else { return nil }
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Reads `RATE/s` or `RATE/s,BURST` (`5/s,20`); `off` or an empty text is no rule.
    /// - Throws: a message saying what is wrong.
    public static func parse(_ text: String) throws(JobsError) -> RateRule? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty || t == "off" { return nil }
        let parts = t.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts[0].hasSuffix("/s"), let rate = Double(parts[0].dropLast(2)),
            let burst = parts.count == 2 ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : max(1, Int(rate.rounded(.up))),
            let rule = RateRule(perSecond: rate, burst: burst)
        else {
            throw JobsError(
                .invalidArgument,
                "a rate limit is RATE/s or RATE/s,BURST (such as 5/s,20) with RATE 0.001 to 1000000 and BURST 1 to 1000000, or off; got \(text)"
            )
        }
        return rule
    }

    /// Microseconds between two requests at the average rate.
    public var intervalMicros: Int64 { max(1, Int64((1_000_000 / perSecond).rounded())) }

    public var description: String {
        let rate = perSecond == perSecond.rounded() ? String(Int64(perSecond)) : String(perSecond)
        return "\(rate)/s,\(burst)"
    }
}
