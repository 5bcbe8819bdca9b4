import Foundation

/// A thread of its own for blocking C calls (hiredis, libpq), which must never run on Swift's
/// cooperative pool: on a 2-core machine it has two threads, and two blocked calls stop every task.
///
/// Callers queue items; the thread hands `process` every item queued since its last turn, in order,
/// so a connection can pipeline what arrived together. After `close`, the queue drains, `finish`
/// runs once on the thread, and the thread ends.
public final class DedicatedThread<Item>: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var closed = false
    // Used by the thread only; dropped when it ends, which breaks the owner's reference cycle.
    private var process: (([Item]) -> Void)?
    private var finish: (() -> Void)?

    public init(name: String, process: @escaping ([Item]) -> Void, finish: @escaping () -> Void = {}) {
        self.process = process
        self.finish = finish
        let thread = Thread { [self] in run() }
        thread.name = "thepred-\(name)"
        thread.start()
    }

    /// Queues an item; false once closed, and the item is not queued.
    public func submit(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if closed { return false }
        pending.append(item)
        if pending.count == 1 { condition.signal() }
        return true
    }

    /// Ends the thread once the items already queued are processed.
    public func close() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        var batch: [Item] = []
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed {
                condition.unlock()
                break
            }
            swap(&batch, &pending)
            condition.unlock()
            process?(batch)
            batch.removeAll(keepingCapacity: true)
        }
        finish?()
        process = nil
        finish = nil
    }
}
