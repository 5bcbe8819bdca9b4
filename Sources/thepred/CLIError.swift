import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Logging
import Postgres
import ThePredKinds

/// A failure the CLI reports in one line and exits 1 for.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
