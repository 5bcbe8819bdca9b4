import Jobs

/// The front's request limits. They are fleet-wide: the rate-limit driver (Redis in production)
/// keeps one allowance per subject for every front. Nil turns a limit off.
public struct FrontRateLimits: Sendable, Equatable {
    /// POST routes of one signed user (bets, check-ins, referrals): `FRONT_RATE_USER_WRITES`.
    public var userWrites = RateRule(perSecond: 5, burst: 20)
    /// GET routes of one signed user (job status): `FRONT_RATE_USER_READS`.
    public var userReads = RateRule(perSecond: 20, burst: 50)
    /// Requests without valid credentials, per client address: `FRONT_RATE_ADDRESS`.
    public var address = RateRule(perSecond: 20, burst: 50)
    /// Admin requests, all admins together: `FRONT_RATE_ADMIN`.
    public var admin = RateRule(perSecond: 100, burst: 200)
    /// The header a proxy in front writes the client's address to (`X-Forwarded-For`; its last
    /// entry is the one the proxy saw); nil takes the peer's address. Only a header a proxy you
    /// run sets: a client can write any header itself.
    public var clientAddressHeader: String?

    public init() {}

    /// No limit at all.
    public static var off: FrontRateLimits {
        var limits = FrontRateLimits()
        (limits.userWrites, limits.userReads, limits.address, limits.admin) = (nil, nil, nil, nil)
        return limits
    }
}
