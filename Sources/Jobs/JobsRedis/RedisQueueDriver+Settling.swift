import Jobs
import Logging

// Settling entries: only their owner may, and what the settling scripts report back.
extension RedisQueueDriver {
    public func holder(of job: FetchedJob) async throws -> String? {
        let reply = try await connection.send("XPENDING", keys.stream(job.queue), keys.group, job.entryID, job.entryID, 1)
        return reply.array?.first?.array.flatMap { $0.count >= 2 ? $0[1].string : nil }
    }

    /// Throws the first error reply, and logs dead letters dropped at the cap and jobs made again.
    /// `calls`, when given, are the calls the replies answer: only a reschedule's 2 means "made
    /// again" (an ack's 2 is a count).
    func checkBuried(_ replies: [RESPValue], of calls: [ScriptCall]? = nil, queue: QueueName) throws {
        var dropped: Int64 = 0
        var madeAgain: Int64 = 0
        for (i, reply) in replies.enumerated() {
            let reply = try reply.throwingError()
            if let parts = reply.array, parts.count >= 2, let n = parts[1].int {
                dropped += n
                if parts.count >= 3, let made = parts[2].int { madeAgain += made }
            } else if reply.int == 2, let calls, i < calls.count, calls[i].script.name == RedisScripts.reschedule.name {
                madeAgain += 1
            }
        }
        if madeAgain > 0 {
            // Redis acknowledged these jobs' writes and then lost them (killed before its AOF had them).
            logger.warning(
                "job results for jobs Redis had forgotten; the jobs were made again from this run",
                metadata: ["queue": "\(queue)", "count": "\(madeAgain)"])
        }
        if dropped > 0 {
            logger.warning(
                "dead-letter queue at its cap; oldest letters dropped",
                metadata: [
                    "queue": "\(queue)", "dropped": "\(dropped)", "cap": "\(configuration.deadLetterLimit)",
                ])
        }
    }
}
