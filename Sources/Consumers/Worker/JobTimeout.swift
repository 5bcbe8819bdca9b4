import Foundation
import Jobs
import Logging

/// A job ran past its kind's timeout; it counts as a transient failure.
public struct JobTimeout: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "timed out after \(timeout)" }
}
