import ArgumentParser

@main
struct ThePred: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thepred",
        abstract: "ThePred Jobs: typed jobs on Redis streams, with workers, a scheduler and admin tools.",
        version: BuildInfo.version,
        subcommands: [
            WorkerCommand.self, SchedulerCommand.self, QueuesCommand.self, DLQCommand.self, JobsCommand.self,
            EnqueueCommand.self, MigrateCommand.self, MarketsCommand.self, MissionsCommand.self, TiersCommand.self,
            LeaderboardsCommand.self, BroadcastsCommand.self, SeedCommand.self, AuditCommand.self, BenchCommand.self,
            FakeTelegramCommand.self, FrontCommand.self, InitDataCommand.self, TelegramCommand.self,
        ])
}
