import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers

// Small helpers the subcommands share: parsing options, printing tables, JSON and errors.

func describe(_ error: any Error) -> String {
    if let e = error as? RedisError { return e.message.isEmpty ? e.description : e.message }
    return "\(error)"
}

func parseQueue(_ text: String) throws -> QueueName {
    do { return try QueueName(validating: text) } catch { throw ValidationError(error.message) }
}

func parseQueues(_ text: String) throws -> [QueueName] {
    try text.split(separator: ",").map { try parseQueue(String($0).trimmingCharacters(in: .whitespaces)) }
}

/// Milliseconds since the epoch, from an ISO 8601 time or a distance from now such as 30m, 2h, 7d,
/// counted back (`ago`) or forward.
func parseTime(_ text: String, option: String, ago: Bool) throws -> Int64 {
    let units: [Character: Int64] = ["s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
    if let unit = text.last, let scale = units[unit], let n = Int64(text.dropLast().drop { $0 == "+" }) {
        return SystemJobClock().nowMillis() + (ago ? -1 : 1) * n * scale
    }
    if let date = ISO8601DateFormatter().date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
    throw ValidationError("\(option) wants an ISO 8601 time or a distance like 30m, 2h, 7d; got '\(text)'")
}

func parseSince(_ text: String) throws -> Int64 { try parseTime(text, option: "--since", ago: true) }

func formatTime(_ millis: Int64?) -> String {
    guard let millis else { return "-" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}

func formatAge(_ millis: Int64?) -> String {
    guard let millis else { return "-" }
    if millis < 1_000 { return "\(millis)ms" }
    if millis < 60_000 { return String(format: "%.1fs", Double(millis) / 1000) }
    if millis < 3_600_000 { return "\(millis / 60_000)m\(millis % 60_000 / 1000)s" }
    return "\(millis / 3_600_000)h\(millis % 3_600_000 / 60_000)m"
}

/// Prints rows as an aligned table.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// Prints a value as pretty JSON.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Enqueues one typed job and prints its id.
func enqueueAndPrint<P>(_ global: GlobalOptions, _ kind: JobKind<P>, _ payload: P, options: EnqueueOptions = .now) async throws {
    let driver = try await global.connectedDriver()
    try await driver.prepare(queue: kind.queue)
    let result = try await JobClient(driver: driver).enqueue(kind, payload, options: options)
    print(result.duplicate ? "\(result.id) (duplicate of an earlier enqueue)" : result.id.rawValue)
}
