import Jobs

/// How the front listens and whom it trusts.
public struct FrontConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Signs Telegram Mini App init data; users cannot authenticate without it.
    public var botToken: String
    /// `Authorization: Bearer <token>` for admin routes; nil turns admin routes off (401).
    public var adminToken: String?
    /// Init data older than this is refused.
    public var initDataMaxAge: Duration

    /// Bodies above this are refused with 413 before they are read whole.
    public static let maxBodyBytes = 64 * 1024

    public init(
        host: String = "127.0.0.1", port: Int = 8080, botToken: String, adminToken: String?, initDataMaxAge: Duration = .seconds(86_400)
    ) {
        self.host = host
        self.port = port
        self.botToken = botToken
        self.adminToken = adminToken
        self.initDataMaxAge = initDataMaxAge
    }
}
