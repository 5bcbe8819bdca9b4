import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print figures.",
        subcommands: [QueueBench.self, SettleBench.self, BroadcastBench.self, LanesBench.self])
}
