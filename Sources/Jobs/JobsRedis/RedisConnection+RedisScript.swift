import Synchronization

extension RedisConnection {
    /// Runs script calls as one pipeline; the replies come back in order, error replies included.
    /// When Redis has lost a script (a restart), it is loaded again and only the calls that got
    /// NOSCRIPT are sent again: the others ran, and running an unkeyed enqueue twice would double it.
    func evaluate(_ calls: [ScriptCall]) async throws -> [RESPValue] {
        if calls.isEmpty { return [] }
        var replies = try await run(calls, reload: false)
        let lost = replies.indices.filter { replies[$0].isNoScript }
        if lost.isEmpty { return replies }
        let again = try await run(lost.map { calls[$0] }, reload: true)
        for (index, reply) in zip(lost, again) { replies[index] = reply }
        return replies
    }

    private func run(_ calls: [ScriptCall], reload: Bool) async throws -> [RESPValue] {
        var shas: [ObjectIdentifier: String] = [:]
        for call in calls where shas[ObjectIdentifier(call.script)] == nil {
            shas[ObjectIdentifier(call.script)] = try await call.script.loadedSHA(on: self, reload: reload)
        }
        return try await pipeline(calls.map { $0.script.command(sha: shas[ObjectIdentifier($0.script)]!, keys: $0.keys, args: $0.args) })
    }

    /// Runs one script call; an error reply is thrown.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [String], args: [any RESPArgument]) async throws -> RESPValue {
        try await evaluate([ScriptCall(script: script, keys: keys, args: args)])[0].throwingError()
    }
}
