import ArgumentParser
import Foundation
import Jobs
import OperatorTools
import Producers
import ThePredKinds

extension MarketsResolve.Result: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.uppercased()) }
}
