import Jobs
import JobsWorker
import Postgres
import Telegram
import ThePredKinds

/// Every job kind this platform runs, with its handler. New kinds are added here.
public enum AppHandlers {
    /// What the handlers need, and their tunables.
    public struct Dependencies: Sendable {
        public var database: any PostgresClient
        /// Bets per settlement chunk (statement and transaction).
        public var settlementChunk = 5_000
        /// Settlement chunks in flight at once, each on its own connection; users are split
        /// between them so they never wait on each other.
        public var settlementLanes = 2
        /// Leaderboard snapshot rows when a job does not say.
        public var leaderboardTop = 100
        /// The Bot API, the limiter and the limits. Without it `telegram.send` has no handler, and
        /// the worker leaves the `telegram` queue alone.
        public var telegram: TelegramDelivery?
        /// Users per fan-out chunk (one query, one bulk enqueue, one checkpoint).
        public var fanoutChunk = 1_000
        /// Connections of their own for the delivery log's outcome writes (SENT, AMBIGUOUS): the
        /// write that closes a message's duplicate window must not wait for a connection that
        /// settlement chunks hold (issue 26, finding 11). Nil uses `database`.
        public var deliveryLog: (any PostgresClient)?
        /// Where broadcast statuses go for the HTTP front; nil publishes none. Run it as a service.
        public var broadcastPublisher: BroadcastPublisher?

        public init(database: any PostgresClient) { self.database = database }
    }

    public static func all(_ deps: Dependencies) throws -> JobHandlers {
        var handlers = JobHandlers()
        handlers.use(PostgresDataErrorMiddleware())
        let db = deps.database
        try handlers.register(SystemNoop.kind, handler: SystemNoopHandler.handle)
        try handlers.register(OutboxSweep.kind, handler: OutboxSweepHandler(db: db).handle)
        try handlers.register(BacklogsSweep.kind, handler: BacklogsSweepHandler(db: db).handle)
        try handlers.register(BetsPlace.kind, handler: BetsPlaceHandler(db: db).handle)
        try handlers.register(MarketsCreate.kind, handler: MarketsCreateHandler(db: db).handle)
        try handlers.register(
            MarketsResolve.kind,
            handler: MarketsResolveHandler(db: db, chunkSize: deps.settlementChunk, lanes: max(1, deps.settlementLanes)).handle)
        try handlers.register(MarketsNotify.kind, handler: MarketsNotifyHandler(db: db, chunkSize: max(1, deps.fanoutChunk)).handle)
        try handlers.register(MissionsProgress.kind, handler: MissionsProgressHandler(db: db).handle)
        try handlers.register(ReferralsClaim.kind, handler: ReferralsClaimHandler(db: db).handle)
        try handlers.register(LeaderboardClose.kind, handler: LeaderboardCloseHandler(db: db, defaultTop: deps.leaderboardTop).handle)
        let publisher = deps.broadcastPublisher
        try handlers.register(
            BroadcastFanout.kind, handler: BroadcastFanoutHandler(db: db, chunkSize: max(1, deps.fanoutChunk), publisher: publisher).handle)
        try handlers.register(BroadcastCreate.kind, handler: BroadcastCreateHandler(db: db, publisher: publisher).handle)
        try handlers.register(BroadcastCancel.kind, handler: BroadcastCancelHandler(db: db, publisher: publisher).handle)
        if let telegram = deps.telegram {
            // One handler, three kinds: each class has its own queue, so an interactive message
            // never waits in a stream behind a broadcast's backlog.
            for priority in TelegramSend.Priority.allCases {
                let handler = TelegramSendHandler(
                    db: db, delivery: telegram, publisher: publisher, priority: priority, outcomes: deps.deliveryLog ?? db)
                try handlers.register(TelegramSend.kind(for: priority), handler: handler.handle, onDead: TelegramSendHandler.onDead(db: db))
            }
        }
        return handlers
    }
}
