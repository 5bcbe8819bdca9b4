import Jobs

/// A job enqueued on every tick of a cron expression.
public struct PeriodicSchedule: Sendable {
    public let name: String
    public let cron: CronExpression
    public let queue: QueueName
    let enqueueTick: @Sendable (_ tickMillis: Int64, _ client: JobClient) async throws -> EnqueueResult

    /// - Parameter payload: makes the payload for the tick at the given time (ms since the epoch).
    public init<P>(
        name: String, cron: CronExpression, kind: JobKind<P>, payload: @escaping @Sendable (_ tickMillis: Int64) -> P
    ) {
        self.name = name
        self.cron = cron
        queue = kind.queue
        enqueueTick = { tick, client in
            // The key makes a tick's job unique, so two leaders for a moment still enqueue it once.
            try await client.enqueue(kind, payload(tick), options: .idempotent(Self.idempotencyKey(name: name, tick: tick)))
        }
    }

    public static func idempotencyKey(name: String, tick: Int64) -> String { "schedule:\(name):\(tick)" }
}
