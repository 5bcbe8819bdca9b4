import Foundation
import Synchronization

/// The time source of a queue driver, in milliseconds since the epoch.
///
/// Drivers take it as a value so tests can move time by hand.
public protocol JobClock: Sendable {
    func nowMillis() -> Int64
}
