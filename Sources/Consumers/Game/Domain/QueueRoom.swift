import Jobs
import Producers

/// How many more jobs a producer that tops a queue up may add now.
enum QueueRoom {
    /// `cap` less what waits in `queue` (ready and delayed). A driver that cannot tell its figures
    /// (no `QueueInspectionDriver`) gets `fallback`, as before producers were paced.
    static func room(in queue: QueueName, cap: Int, fallback: Int, client: JobClient) async throws -> Int {
        guard let figures = client.driver as? any QueueInspectionDriver else { return fallback }
        let s = try await figures.stats(queue: queue)
        return max(0, cap - (s.ready + s.delayed))
    }
}
