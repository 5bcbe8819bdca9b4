import ArgumentParser
import ThePredKinds

extension BroadcastStatus.State: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}
