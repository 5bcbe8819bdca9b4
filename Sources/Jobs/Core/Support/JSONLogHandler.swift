import Foundation
import Logging

/// One JSON object per line on stderr (`LOG_FORMAT=json`), for log shippers: `ts`, `level`,
/// `logger`, `msg`, then the metadata as string fields (a job's logger carries `job`, `kind`,
/// `queue` and `attempt`). A metadata key named like a fixed field is written as `meta.<key>`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable ([UInt8]) -> Void

    static let fixed: Set<String> = ["ts", "level", "logger", "msg", "source"]

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable ([UInt8]) -> Void = Self.stderr)
    {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += #"{"ts":"#.utf8
        Self.string(Self.timestamp(), into: &out)
        out += #","level":"#.utf8
        Self.string(event.level.rawValue, into: &out)
        out += #","logger":"#.utf8
        Self.string(label, into: &out)
        out += #","msg":"#.utf8
        Self.string(event.message.description, into: &out)
        out += #","source":"#.utf8
        Self.string(event.source, into: &out)
        for key in merged.keys.sorted() {
            out.append(UInt8(ascii: ","))
            Self.string(Self.fixed.contains(key) ? "meta." + key : key, into: &out)
            out.append(UInt8(ascii: ":"))
            Self.string(merged[key]!.description, into: &out)
        }
        out += "}\n".utf8
        write(out)
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "\n"): out += #"\n"#.utf8
            case UInt8(ascii: "\r"): out += #"\r"#.utf8
            case UInt8(ascii: "\t"): out += #"\t"#.utf8
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Writes a whole line with one call, so lines from several threads do not interleave.
    public static let stderr: @Sendable ([UInt8]) -> Void = { bytes in
        bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
