import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues",
        abstract: "Show every queue: ready, delayed, in flight, dead, consumers, oldest waiting age, recent rate.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Also list the live consumers of each queue and what they hold.") var consumers = false

    func run() async throws {
        let driver = try await global.connectedDriver()
        var stats: [QueueStats] = []
        for queue in try await driver.knownQueues() { stats.append(try await driver.stats(queue: queue)) }
        var live: [String: [ConsumerStatus]] = [:]
        if consumers || json {
            for s in stats { live[s.queue] = try await driver.consumers(queue: try QueueName(validating: s.queue)) }
        }
        if json {
            return try printJSON(QueueFiguresList(queues: stats.map { QueueFiguresView($0, liveConsumers: live[$0.queue] ?? []) }))
        }
        if stats.isEmpty {
            print("no queues yet: a worker or an enqueue creates them")
            return
        }
        printTable(
            ["QUEUE", "READY", "DELAYED", "IN FLIGHT", "DEAD", "CONSUMERS", "OLDEST WAITING", "RATE/S (1m)"],
            stats.map {
                [
                    $0.queue, "\($0.ready)", "\($0.delayed)", "\($0.inFlight)", "\($0.dead)", "\($0.consumers)",
                    formatAge($0.oldestWaitingMillis), String(format: "%.1f", $0.recentRate),
                ]
            })
        if consumers {
            let now = SystemJobClock().nowMillis()
            print("")
            printTable(
                ["QUEUE", "CONSUMER", "HOST", "PID", "CONCURRENCY", "HOLDS", "PROCESSED", "LAST BEAT", "UP"],
                stats.flatMap { s in
                    (live[s.queue] ?? []).map {
                        [
                            s.queue, $0.info.name, $0.info.host, "\($0.info.pid)", "\($0.info.concurrency)", "\($0.pending)",
                            "\($0.info.processed)", formatAge(now - $0.lastBeat) + " ago", formatAge(now - $0.info.startedAt),
                        ]
                    }
                })
        }
    }
}
