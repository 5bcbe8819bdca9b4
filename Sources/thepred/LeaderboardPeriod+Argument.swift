import ArgumentParser
import ThePredKinds

extension LeaderboardPeriod.Kind: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}
