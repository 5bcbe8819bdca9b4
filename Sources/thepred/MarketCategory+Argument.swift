import ArgumentParser
import Foundation
import Jobs
import OperatorTools
import Producers
import ThePredKinds

extension MarketCategory: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.prefix(1).uppercased() + argument.dropFirst().lowercased()) }
}
