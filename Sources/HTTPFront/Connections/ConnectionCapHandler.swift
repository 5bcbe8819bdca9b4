import NIOCore
import NIOHTTPTypes
import Synchronization

/// Counts the front's open connections and closes any past the cap as it opens, so a flood of
/// sockets cannot take every file descriptor and the memory behind them.
final class ConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The open connections of one listener, shared by their handlers.
    final class Counter: Sendable {
        let limit: Int
        private let open = Atomic<Int>(0)
        private let refusedCount = Atomic<Int>(0)
        init(limit: Int) { self.limit = limit }

        /// Counts a new connection; false when it is past the cap (it stays counted until it closes).
        func admit() -> Bool {
            let now = open.wrappingAdd(1, ordering: .relaxed).newValue
            if now > limit { refusedCount.wrappingAdd(1, ordering: .relaxed) }
            return now <= limit
        }
        func closed() { open.wrappingSubtract(1, ordering: .relaxed) }
        var current: Int { open.load(ordering: .relaxed) }
        /// Connections closed at once because the cap was reached.
        var refused: Int { refusedCount.load(ordering: .relaxed) }
    }

    private let counter: Counter
    private var counted = false

    init(counter: Counter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    private func admit(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        // Closed once the pipeline is set up: closing it while the server still wraps the channel
        // would leave that connection's task waiting for a stream that never starts.
        if !counter.admit() {
            let channel = context.channel
            context.eventLoop.assumeIsolated().execute { channel.close(promise: nil) }
        }
    }

    private func release() {
        guard counted else { return }
        counted = false
        counter.closed()
    }
}
