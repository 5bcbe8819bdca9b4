import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Enqueue one job of any kind with a raw JSON payload (operators and smoke tests).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job kind, such as system.noop.") var kind: String
    @Option(help: "The payload, as JSON.") var payload: String = "{}"
    @Option(help: "The queue. Default: the kind's queue if this build knows it.") var queue: String?
    @Option(help: "Run no earlier than this many seconds from now.") var delay: Int?
    @Option(help: "Idempotency key: a repeat returns the first job's id.") var idempotencyKey: String?

    func run() async throws {
        guard (try? JSONSerialization.jsonObject(with: Data(payload.utf8), options: [.fragmentsAllowed])) != nil else {
            throw ValidationError("--payload is not valid JSON")
        }
        let name: JobName
        do { name = try JobName(validating: kind) } catch { throw ValidationError(error.message) }
        let known = try AppKinds.registry().descriptor(named: name.rawValue)
        guard let target = try queue.map(parseQueue) ?? known?.queue else {
            throw ValidationError("unknown kind \(kind): give --queue")
        }
        let driver = try await global.connectedDriver()
        let now = SystemJobClock().nowMillis()
        let envelope = JobEnvelope(
            id: .generate(millis: now), kind: name.rawValue, payload: Array(payload.utf8), enqueuedAt: now,
            notBefore: delay.map { now + Int64($0) * 1000 }, idempotencyKey: idempotencyKey)
        try await driver.prepare(queue: target)
        let result = try await driver.enqueue([envelope], queue: target)[0]
        print(result.duplicate ? "\(result.id) (duplicate of an earlier enqueue)" : result.id.rawValue)
    }
}
