import Foundation
import Jobs
import Logging
import Synchronization
import Testing

@Suite("JSON log lines (LOG_FORMAT=json)")
struct JSONLogHandlerTests {
    /// A logger whose lines land in memory instead of on stderr.
    static func capture() -> (Logger, @Sendable () -> [[String: String]]) {
        let lines = Mutex<[[UInt8]]>([])
        let handler = JSONLogHandler(label: "thepred.test") { bytes in lines.withLock { $0.append(bytes) } }
        let logger = Logger(label: "thepred.test") { _ in handler }
        return (
            logger,
            {
                lines.withLock { all in
                    all.map { line in
                        #expect(line.last == UInt8(ascii: "\n"))
                        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
                        return (try? JSONSerialization.jsonObject(with: Data(line)) as? [String: String]) ?? [:]
                    }
                }
            }
        )
    }

    @Test("one object per line, with the fixed fields and the job's metadata as strings")
    func fields() throws {
        var (logger, lines) = Self.capture()
        logger[metadataKey: "job"] = "01ABC"
        logger[metadataKey: "kind"] = "bets.place"
        logger[metadataKey: "queue"] = "bets"
        logger[metadataKey: "attempt"] = "2"
        logger.warning("job failed; will retry", metadata: ["error": "timed out after 30 s"])
        let line = try #require(lines().first)
        #expect(line["level"] == "warning")
        #expect(line["logger"] == "thepred.test")
        #expect(line["msg"] == "job failed; will retry")
        #expect(line["job"] == "01ABC" && line["kind"] == "bets.place" && line["queue"] == "bets" && line["attempt"] == "2")
        #expect(line["error"] == "timed out after 30 s")
        #expect(line["ts"]?.hasSuffix("Z") == true)
    }

    @Test("quotes, backslashes, newlines and control bytes are escaped; a metadata key like a fixed field is renamed")
    func escaping() throws {
        let (logger, lines) = Self.capture()
        logger.error("a \"quoted\" \\ line\nsecond\tthird \u{01} ünïcödé", metadata: ["msg": "not the message", "weird\"key": "v"])
        let line = try #require(lines().first)
        #expect(line["msg"] == "a \"quoted\" \\ line\nsecond\tthird \u{01} ünïcödé")
        #expect(line["meta.msg"] == "not the message")
        #expect(line["weird\"key"] == "v")
    }
}
