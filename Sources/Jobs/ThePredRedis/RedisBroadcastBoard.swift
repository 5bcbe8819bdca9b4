import Foundation
import Jobs
import JobsRedis
import ThePredKinds

/// The broadcast board in Redis: a hash per broadcast, an index by id, and a map from the
/// creating job's id. All keys share the hash tag `{broadcasts}`.
public final class RedisBroadcastBoard: BroadcastBoard {
    private let connection: RedisConnection
    private let keys: RedisKeys

    public init(connection: RedisConnection, keys: RedisKeys = RedisKeys()) {
        self.connection = connection
        self.keys = keys
    }

    public func publish(_ status: BroadcastStatus, requestID: String?) async throws -> Bool {
        var scriptKeys = [keys.broadcast(status.id), keys.broadcastIndex]
        if let requestID { scriptKeys.append(keys.broadcastRequest(requestID)) }
        let json = Array(try JSONCoding.encoder.encode(status))
        let reply = try await connection.evaluate(Self.publish, keys: scriptKeys, args: [status.id, status.version, json])
        return reply.int == 1
    }

    public func status(id: Int64) async throws -> BroadcastStatus? {
        try await connection.send("HGET", keys.broadcast(id), "json").rawBytes.map(Self.decode)
    }

    public func status(requestID: String) async throws -> BroadcastStatus? {
        guard let text = try await connection.send("GET", keys.broadcastRequest(requestID)).string, let id = Int64(text) else {
            return nil
        }
        return try await status(id: id)
    }

    public func list(limit: Int, beforeID: Int64?) async throws -> [BroadcastStatus] {
        let top = beforeID.map { "(\($0)" } ?? "+inf"
        let ids =
            try await connection.send(
                "ZREVRANGEBYSCORE", keys.broadcastIndex, top, "-inf", "LIMIT", 0, max(0, limit)
            ).array ?? []
        let replies = try await connection.pipeline(ids.compactMap { $0.int }.map { RedisCommand("HGET", keys.broadcast($0), "json") })
        return try replies.compactMap(\.rawBytes).map(Self.decode)
    }

    /// Only this board writes these hashes, so a status that does not decode is a bug or a
    /// foreign write; the error names it instead of hiding the broadcast.
    static func decode(_ json: [UInt8]) throws -> BroadcastStatus {
        do {
            return try JSONCoding.decoder.decode(BroadcastStatus.self, from: Data(json))
        } catch {
            throw JobsError(.encoding, "a broadcast status on the board does not decode: \(error)")
        }
    }

    static let publish = RedisScript(
        name: "broadcast-publish",
        source: """
            -- Store a broadcast's status unless a newer version is stored.
            -- KEYS[1] the broadcast's hash, KEYS[2] the index zset (score = id),
            -- KEYS[3] optional: the creating job id's key, set to the broadcast id
            -- ARGV[1] broadcast id, ARGV[2] version, ARGV[3] status JSON
            -- Returns 1 when stored, 0 when the stored version is newer.
            local old = tonumber(redis.call('HGET', KEYS[1], 'version') or '-1')
            if tonumber(ARGV[2]) < old then return 0 end
            redis.call('HSET', KEYS[1], 'version', ARGV[2], 'json', ARGV[3])
            redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
            if KEYS[3] then redis.call('SET', KEYS[3], ARGV[1]) end
            return 1
            """)
}
