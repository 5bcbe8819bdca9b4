import Synchronization

/// Whether a run saved progress it will not redo (see ``JobContext/checkpointed()``). Shared by
/// the run's context copies and read by the worker when the run fails.
final class JobCheckpoints: Sendable {
    private let count = Atomic<Int>(0)

    func mark() { count.add(1, ordering: .relaxed) }

    var any: Bool { count.load(ordering: .relaxed) > 0 }
}
