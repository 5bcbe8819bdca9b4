import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

/// Filters shared by `dlq list`, `dlq retry --all` and `dlq purge`.
struct DeadLetterFilterOptions: ParsableArguments {
    @Option(help: "Only this queue. Default: every queue.") var queue: String?
    @Option(help: "Only this job kind.") var kind: String?
    @Option(help: "Only entries that died since this ISO 8601 time or age (30m, 2h, 7d).") var since: String?

    func queues(_ driver: RedisQueueDriver) async throws -> [QueueName] {
        if let queue { return [try parseQueue(queue)] }
        return try await driver.knownQueues()
    }

    func filter(limit: Int) throws -> DeadLetterFilter {
        DeadLetterFilter(kind: kind, since: try since.map(parseSince), limit: limit)
    }

    /// Every matching entry across the chosen queues, newest first per queue.
    func matching(_ driver: RedisQueueDriver, limit: Int) async throws -> [DeadLetter] {
        var out: [DeadLetter] = []
        for queue in try await queues(driver) where out.count < limit {
            out += try await driver.deadLetters(queue: queue, filter: try filter(limit: limit - out.count))
        }
        return out
    }
}
