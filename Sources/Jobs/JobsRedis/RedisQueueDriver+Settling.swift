import Jobs
import Logging

// Settling entries: only their owner may, and what the settling scripts report back.
extension RedisQueueDriver {
    public func holds(_ job: FetchedJob) async throws -> Bool {
        let reply = try await connection.send(
            "XPENDING", keys.stream(job.queue), keys.group, job.entryID, job.entryID, 1, job.consumer)
        return reply.array?.isEmpty == false
    }

    /// Throws the first error reply, and logs dead letters dropped at the cap and jobs made again.
    func checkBuried(_ replies: [RESPValue], queue: QueueName) throws {
        var dropped: Int64 = 0
        var madeAgain: Int64 = 0
        for reply in replies {
            let reply = try reply.throwingError()
            if let parts = reply.array, parts.count >= 2, let n = parts[1].int {
                dropped += n
                if parts.count >= 3, let made = parts[2].int { madeAgain += made }
            } else if reply.int == 2 {
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
