import Jobs

/// Every job kind of the platform, for tools that need the names and queues but not the handlers.
public enum AppKinds {
    public static func registry() throws(JobsError) -> JobRegistry {
        var registry = JobRegistry()
        try registry.register(SystemNoop.kind)
        try registry.register(OutboxSweep.kind)
        try registry.register(BacklogsSweep.kind)
        try registry.register(BetsPlace.kind)
        try registry.register(MarketsCreate.kind)
        try registry.register(MarketsResolve.kind)
        try registry.register(MarketsNotify.kind)
        try registry.register(MissionsProgress.kind)
        try registry.register(ReferralsClaim.kind)
        try registry.register(LeaderboardClose.kind)
        try registry.register(TelegramSend.kind)
        try registry.register(TelegramSend.resultsKind)
        try registry.register(TelegramSend.bulkKind)
        try registry.register(BroadcastFanout.kind)
        try registry.register(BroadcastCreate.kind)
        try registry.register(BroadcastCancel.kind)
        return registry
    }
}
