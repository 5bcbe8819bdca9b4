import Jobs
import JobsWorker
import ThePredKinds

enum SystemNoopHandler {
    @Sendable static func handle(_ payload: SystemNoop, _ context: JobContext) async throws {
        if let tag = payload.tag { context.logger.debug("noop", metadata: ["tag": "\(tag)"]) }
    }
}
