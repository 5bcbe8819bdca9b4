/// How one lane's rate is shared between classes of traffic, such as the bot's 30 messages a second
/// between interactive messages, results and broadcasts. Sent with a reservation on that lane; the
/// limiter keeps each class's pace fleet-wide.
///
/// A class among `weights` shares the lane with the other weighted classes that asked within
/// `activeWindow`, by weight, and never holds a slot more than `ahead` away. A class not among
/// them has priority: it takes the lane's next slot, within the full horizon; while a weighted
/// class is active it uses at most `priorityShare` of the lane, so no class with work starves.
public struct RateShare: Sendable, Hashable {
    /// The shared lane: one of the reservation's lanes, by name.
    public var lane: String
    /// The class asking.
    public var className: String
    public var weights: [String: Int]
    public var priorityShare: Double
    public var ahead: Duration
    public var activeWindow: Duration

    public init(
        lane: String, className: String, weights: [String: Int], priorityShare: Double = 0.8, ahead: Duration = .milliseconds(500),
        activeWindow: Duration = .seconds(1)
    ) {
        precondition(weights.values.allSatisfy { $0 > 0 }, "weights must be positive")
        precondition(priorityShare > 0 && priorityShare <= 1, "priorityShare must be within (0, 1]")
        self.lane = lane
        self.className = className
        self.weights = weights
        self.priorityShare = priorityShare
        self.ahead = ahead
        self.activeWindow = activeWindow
    }

    /// Whether the asking class is weighted (else it has priority).
    public var isWeighted: Bool { weights[className] != nil }
}
