import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Logging
import Postgres
import ThePredKinds

extension RedisQueueDriver {
    /// Makes every queue of the app's job kinds and its consumer group, so lookups by id and
    /// figures find them before any job has run.
    func prepareAppQueues() async throws {
        for queue in try AppKinds.registry().queues { try await prepare(queue: queue) }
    }
}
