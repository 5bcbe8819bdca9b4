import Jobs

/// How the front listens and whom it trusts.
public struct FrontConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Signs Telegram Mini App init data; users cannot authenticate without it.
    public private(set) var botToken: String
    /// `Authorization: Bearer <token>` for admin routes; nil turns admin routes off (401). At
    /// least `minAdminTokenLength` characters: a short one can be guessed over the network.
    public private(set) var adminToken: String?
    /// Init data older than this is refused.
    public var initDataMaxAge: Duration
    /// A connection that has not sent a whole request head within this long of opening, or of its
    /// last answer, is closed: an idle keep-alive connection, and a head sent a byte at a time.
    public var idleTimeout: Duration = .seconds(30)
    /// A request whose body has not ended within this long of its head is dropped with its connection.
    public var bodyTimeout: Duration = .seconds(30)
    /// Connections open at once; one more is closed as it opens.
    public var maxConnections = 4096
    /// Web origins a Mini App may call the front from.
    public var cors = CORSPolicy.none
    /// Requests a second per user, per address and for admins.
    public var rateLimits = FrontRateLimits()

    /// Bodies above this are refused with 413 before they are read whole.
    public static let maxBodyBytes = 64 * 1024
    public static let minAdminTokenLength = 16

    /// Why a configuration is refused.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Refuses an empty bot token and an admin token shorter than 16 characters, so that no
    /// caller (the CLI, a test, an embedding program) can start a front with a guessable token.
    public init(
        host: String = "127.0.0.1", port: Int = 8080, botToken: String, adminToken: String?, initDataMaxAge: Duration = .seconds(86_400)
    ) throws(Invalid) {
        guard !botToken.isEmpty else { throw Invalid(description: "a bot token is needed to check init data") }
        if let adminToken, adminToken.unicodeScalars.count < Self.minAdminTokenLength {
            throw Invalid(
                description:
                    "the admin token must have at least \(Self.minAdminTokenLength) characters; it has \(adminToken.unicodeScalars.count)")
        }
        self.host = host
        self.port = port
        self.botToken = botToken
        self.adminToken = adminToken
        self.initDataMaxAge = initDataMaxAge
    }
}
