/// The instants of the messages a limit let through in the last `length`, oldest first.
///
/// The window is half-open, (now - length, now], so a message at `t` stops counting at exactly
/// `t + length`. A window never needs more than `limit` entries to tell whether one more fits,
/// so it keeps them in a ring of that size: checking and recording are O(1) amortized.
struct SlidingWindow: Sendable {
    let limit: Int
    let length: Duration
    private var ring: [ContinuousClock.Instant] = []
    private var head = 0
    private var count = 0

    /// A `limit` below 1 is taken as 1: a lane that lets nothing through would only hang senders.
    init(limit: Int, length: Duration) {
        self.limit = max(1, limit)
        self.length = length
    }

    /// Whether the window holds no message that still counts at `now`.
    func isIdle(at now: ContinuousClock.Instant) -> Bool {
        count == 0 || ring[(head + count - 1) % limit] <= now - length
    }

    /// Nil when one more message fits at `now`; otherwise how long until the oldest one leaves.
    mutating func wait(at now: ContinuousClock.Instant) -> Duration? {
        expire(at: now)
        guard count >= limit else { return nil }
        return ring[head] + length - now
    }

    /// Counts a message at `now`. Instants must not go backwards; the server takes them under
    /// one lock from a monotonic clock.
    mutating func record(_ now: ContinuousClock.Instant) {
        expire(at: now)
        if ring.isEmpty { ring.reserveCapacity(min(limit, 1024)) }
        if count == limit {
            // Only when the caller ignored `wait`: forget the oldest so the ring stays bounded.
            head = (head + 1) % limit
            count -= 1
        }
        let tail = (head + count) % limit
        if tail < ring.count {
            ring[tail] = now
        } else {
            // The ring grows to `limit` lazily, in order, so a window of 1000 costs little
            // for a chat that sends one message.
            ring.append(now)
        }
        count += 1
    }

    private mutating func expire(at now: ContinuousClock.Instant) {
        let cutoff = now - length
        while count > 0 && ring[head] <= cutoff {
            head = (head + 1) % limit
            count -= 1
        }
    }
}
