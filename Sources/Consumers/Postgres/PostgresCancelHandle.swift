import CLibpq

/// libpq's PGcancel for one connection, usable from any thread. Freed when the connection and
/// every cancel request still on its way are done with it, so a reconnect cannot free it under a
/// cancel's thread.
final class PostgresCancelHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { PQfreeCancel(pointer) }
}
