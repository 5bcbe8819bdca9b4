import ArgumentParser
import Foundation
import Game
import Jobs
import JobsRedis
import JobsWorker
import Logging
import MetricsExport
import Producers
import ServiceLifecycle
import Telegram
import ThePredKinds
import ThePredRedis

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Promote due delayed jobs and enqueue periodic schedules. Any number may run; one leads.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var metrics: MetricsOptions

    @Option(help: "Seconds the leader lock lasts without renewal.")
    var leaderTTL: Int = 10

    func run() async throws {
        let logger = global.logger("thepred.scheduler")
        let registry = ProcessMetrics.bootstrap(role: .scheduler)
        let signals = ShutdownSignals(logger: logger)
        let (driver, clock) = try await global.clockedDriver()
        var config = SchedulerService.Configuration()
        config.leaderTTL = .seconds(leaderTTL)
        config.queues = try AppKinds.registry().queues
        let scheduler = SchedulerService(
            driver: driver, coordinator: RedisSchedulerCoordinator(connection: driver.connection, keys: driver.keys),
            schedules: AppSchedules.all(), configuration: config, clock: clock, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let refresh = ScrapeRefresh(driver: driver, queues: QueueGauges(registry: registry))
        if let listener = ProcessMetrics.listener(
            metrics, role: .scheduler, registry: registry, logger: logger, refresh: refresh.callAsFunction,
            ready: ReadyProbe(driver: driver).callAsFunction)
        {
            services.append(listener)
        }
        services += [.init(service: ClockSyncService(clock: clock, logger: logger)), .init(service: scheduler)]
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        signals.hand(to: group)
        try await group.run()
    }
}
