/// What a reservation gave.
public struct RateReservation: Sendable, Equatable {
    /// True: a slot is held; send after `wait`. False: nothing is held (the fleet is paused or
    /// the slot is further off than the horizon); ask again after `wait`.
    public let granted: Bool
    public let wait: Duration

    public init(granted: Bool, wait: Duration) {
        self.granted = granted
        self.wait = wait
    }
}
