import FakeTelegram
import Foundation
import Jobs

/// `--bulk-alone`: how the split between results and bulk behaves once results return to a lane that
/// bulk had to itself.
extension LanesBench {
    /// The seconds after the results' arrival printed one by one.
    static let sharesShown = 15
    /// The band around the weight, relative: 10% of 66.7% is 60.0%...73.3%.
    static let shareTolerance = 0.10

    static func isInteractive(_ m: FakeTelegramServer.Message) -> Bool { m.chatID >= interactiveBase }
    static func isResult(_ m: FakeTelegramServer.Message) -> Bool { m.chatID >= resultsBase && m.chatID < interactiveBase }

    /// The results' weight as a share of results + bulk.
    static func resultsWeight(_ weights: [String: Int]) -> Double {
        Double(weights["results"] ?? 1) / Double((weights["results"] ?? 1) + (weights["bulk"] ?? 1))
    }

    /// Prints bulk's rate while alone, the results' share of results + bulk for each second after
    /// `arrived`, the first second from which every later one stays within the band, and the share
    /// over the rest. Whole seconds only, up to `end` (when the broadcast was cancelled).
    func reportShares(
        _ messages: [FakeTelegramServer.Message], start: ContinuousClock.Instant, arrived: ContinuousClock.Instant,
        end: ContinuousClock.Instant, weights: [String: Int]
    ) {
        let weight = Self.resultsWeight(weights)
        let band = (weight * (1 - Self.shareTolerance))...(weight * (1 + Self.shareTolerance))
        let alone = messages.filter { $0.at >= start && $0.at < arrived && !Self.isInteractive($0) }
        let aloneSeconds = (arrived - start).inSeconds
        let strays = alone.filter(Self.isResult).count
        print(
            String(
                format: "bulk alone:  %.1f s, %d bulk sent (%.1f/s), %d results", aloneSeconds, alone.count - strays,
                Double(alone.count - strays) / aloneSeconds, strays))
        // Per whole second after the arrival: (results, bulk).
        let seconds = max(0, Int((end - arrived).inSeconds))
        var counts = Array(repeating: (r: 0, b: 0), count: seconds)
        for m in messages where m.at >= arrived && !Self.isInteractive(m) {
            let i = Int((m.at - arrived).inSeconds)
            guard i < seconds else { continue }
            if Self.isResult(m) { counts[i].r += 1 } else { counts[i].b += 1 }
        }
        func share(_ c: (r: Int, b: Int)) -> Double { c.r + c.b == 0 ? 0 : Double(c.r) / Double(c.r + c.b) }
        let firstResult = messages.first { $0.at >= arrived && Self.isResult($0) }
        print(
            String(
                format: "results in:  after %.1f s alone; first result sent %.0f ms later; share of results+bulk per second "
                    + "(weight %.1f%%, band %.1f%%..%.1f%%: 10%% relative)", aloneSeconds,
                firstResult.map { Double(($0.at - arrived).milliseconds) } ?? -1, 100 * weight, 100 * band.lowerBound,
                100 * band.upperBound))
        for (i, c) in counts.prefix(Self.sharesShown).enumerated() {
            let mark = band.contains(share(c)) ? "" : "  outside"
            print(String(format: "  %2d-%2d s  results %3d  bulk %3d  %5.1f%%", i, i + 1, c.r, c.b, 100 * share(c)) + mark)
        }
        // Seconds with a fleet-wide pause (a 429) or a late wake hold few sends, where one send moves the share
        // by 5 points or more: so the settling time over 3-s windows too.
        for width in [1, 3] {
            let windows = (0..<max(0, seconds - width + 1)).map { k in
                counts[k..<k + width].reduce((r: 0, b: 0)) { ($0.r + $1.r, $0.b + $1.b) }
            }
            // The first window from which every later one is within the band.
            var settled = windows.count
            while settled > 0, band.contains(share(windows[settled - 1])) { settled -= 1 }
            let outside = windows.filter { !band.contains(share($0)) }.count
            let what = width == 1 ? "each second" : "each \(width)-s window"
            print(
                (settled < windows.count
                    ? "settled:     \(what) within the band from \(settled) s after the results arrived on"
                    : "settled:     \(what) never within the band for good")
                    + "; \(outside) of \(windows.count) outside it, up to \(seconds) s")
        }
        let firstFive = counts.prefix(5).reduce((r: 0, b: 0)) { ($0.r + $1.r, $0.b + $1.b) }
        print(String(format: "first 5 s:   results %d, bulk %d, %.1f%% of results+bulk", firstFive.r, firstFive.b, 100 * share(firstFive)))
        let rest = counts.dropFirst(Self.sharesShown).reduce((r: 0, b: 0)) { ($0.r + $1.r, $0.b + $1.b) }
        if rest.r + rest.b > 0 {
            print(
                String(
                    format: "rest:        %d-%d s after: results %d, bulk %d, %.1f%% of results+bulk", Self.sharesShown, seconds, rest.r,
                    rest.b, 100 * share(rest)))
        }
    }
}
