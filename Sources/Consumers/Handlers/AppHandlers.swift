import Jobs

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

        public init(database: any PostgresClient) { self.database = database }
    }

    public static func all(_ deps: Dependencies) throws -> JobHandlers {
        var handlers = JobHandlers()
        let db = deps.database
        try handlers.register(SystemNoop.kind, handler: SystemNoopHandler.handle)
        try handlers.register(BetsPlace.kind, handler: BetsPlaceHandler(db: db).handle)
        try handlers.register(MarketsCreate.kind, handler: MarketsCreateHandler(db: db).handle)
        try handlers.register(MarketsResolve.kind, handler: MarketsResolveHandler(db: db, chunkSize: deps.settlementChunk, lanes: max(1, deps.settlementLanes)).handle)
        try handlers.register(MissionsProgress.kind, handler: MissionsProgressHandler(db: db).handle)
        try handlers.register(ReferralsClaim.kind, handler: ReferralsClaimHandler(db: db).handle)
        try handlers.register(LeaderboardClose.kind, handler: LeaderboardCloseHandler(db: db, defaultTop: deps.leaderboardTop).handle)
        return handlers
    }
}
