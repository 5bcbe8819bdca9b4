import Foundation

/// Reading stream replies: field pairs, entry ids, stored delayed fields.
extension RedisQueueDriver {
    /// Stream fields, alternating names and values, as pairs.
    static func fieldPairs(_ value: RESPValue) -> [(String, [UInt8])] {
        guard let items = value.array else { return [] }
        var pairs: [(String, [UInt8])] = []
        pairs.reserveCapacity(items.count / 2)
        var i = 0
        while i + 1 < items.count {
            if case .bytes(let name) = items[i], case .bytes(let v) = items[i + 1] {
                pairs.append((String(decoding: name, as: UTF8.self), v))
            }
            i += 2
        }
        return pairs
    }

    /// A stream id such as `1700000000000-3` as (ms, sequence), for ordering ids as Redis does.
    static func entryOrder(_ id: String) -> (Int64, Int64) {
        guard let dash = id.firstIndex(of: "-") else { return (Int64(id) ?? 0, 0) }
        return (Int64(id[..<dash]) ?? 0, Int64(id[id.index(after: dash)...]) ?? 0)
    }

    /// The milliseconds part of a stream id such as `1700000000000-3`.
    static func millis(ofEntry id: String) -> Int64? {
        guard let dash = id.firstIndex(of: "-") else { return Int64(id) }
        return Int64(id[..<dash])
    }

    /// Decodes the JSON array of field names and values kept for delayed jobs.
    static func decodeStoredFields(_ json: [UInt8]) -> [(String, [UInt8])]? {
        guard let flat = try? JSONDecoder().decode([String].self, from: Data(json)) else { return nil }
        var pairs: [(String, [UInt8])] = []
        var i = 0
        while i + 1 < flat.count {
            pairs.append((flat[i], Array(flat[i + 1].utf8)))
            i += 2
        }
        return pairs
    }
}
