import Crypto
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jobs
import NIOCore
import Prometheus
import ThePredKinds

/// A front on the in-memory queue and board, with a clock the test sets.
struct FrontFixture {
    static let botToken = "123456:test-bot-token"
    static let adminToken = "admin-token-0123456789"
    static let now: Int64 = 1_780_000_000_000

    let driver: any JobQueueDriver & JobStatusDriver & QueueInspectionDriver
    let board: any BroadcastBoard
    let clock = ManualJobClock(millis: now)
    var ping: @Sendable () async throws -> Void = {}
    /// Changes to the configuration; rate limits are off unless a test sets them, because the
    /// test clock never refills an allowance.
    var configure: @Sendable (inout FrontConfiguration) -> Void = { _ in }
    /// In memory on the test clock unless given.
    var rateLimiter: any RateLimitDriver
    /// One registry for the API's router and the metrics listener's.
    let registry = PrometheusCollectorRegistry()

    init(driver: (any JobQueueDriver & JobStatusDriver & QueueInspectionDriver)? = nil, board: (any BroadcastBoard)? = nil) {
        let clock = self.clock
        self.driver = driver ?? MemoryQueueDriver(clock: clock)
        self.board = board ?? MemoryBroadcastBoard()
        rateLimiter = MemoryRateLimitDriver(clock: clock)
    }

    var configuration: FrontConfiguration {
        var configuration = try! FrontConfiguration(botToken: Self.botToken, adminToken: Self.adminToken)
        configuration.rateLimits = .off
        configure(&configuration)
        return configuration
    }

    var dependencies: FrontDependencies {
        FrontDependencies(driver: driver, board: board, ping: ping, registry: registry, clock: clock, rateLimiter: rateLimiter)
    }

    var router: Router<FrontRequestContext> { HTTPFront.router(configuration: configuration, dependencies: dependencies) }

    func test<R>(_ body: @Sendable (any TestClientProtocol) async throws -> R) async throws -> R {
        try await Application(router: router).test(.router, body)
    }

    /// Init data as Telegram signs it, made here with the bot token.
    static func initData(
        userID: Int64 = 42, username: String = "alice", authDate: Int64 = now / 1000, token: String = botToken,
        extra: [(String, String)] = []
    ) -> String {
        let user = #"{"id":\#(userID),"first_name":"Al","username":"\#(username)"}"#
        let fields = [("auth_date", String(authDate)), ("query_id", "AAH-test"), ("user", user)] + extra
        let check = fields.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        let secret = HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: SymmetricKey(data: Array("WebAppData".utf8)))
        let hash = HMAC<SHA256>.authenticationCode(for: Array(check.utf8), using: SymmetricKey(data: Array(secret)))
        let hex = hash.map { String(format: "%02x", $0) }.joined()
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return (fields + [("hash", hex)]).map {
            "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
    }

    static func user(_ id: Int64 = 42) -> HTTPFields { [.authorization: "tma \(initData(userID: id))", .contentType: "application/json"] }
    static var admin: HTTPFields { [.authorization: "Bearer \(adminToken)", .contentType: "application/json"] }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    /// The `error` object of a refusal.
    var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    var errorCode: String? { error["code"] as? String }
    var errorField: String? { error["field"] as? String }
    var text: String { String(buffer: body) }
}

extension JobQueueDriver where Self: QueueInspectionDriver {
    /// Every job waiting in the queues the front writes to.
    func waitingCount() async throws -> Int {
        var n = 0
        for queue in try await knownQueues() { n += try await stats(queue: queue).ready + stats(queue: queue).delayed }
        return n
    }
}

/// A broadcast status as a worker would publish it to the board.
func broadcast(_ id: Int64, _ status: BroadcastStatus.State, total: Int64 = 0, sent: Int64 = 0) -> BroadcastStatus {
    BroadcastStatus(
        id: id, status: status, text: "t", parseMode: "HTML", photoURL: nil, target: "ALL", telegramID: nil, paid: false,
        scheduledAt: nil, createdAt: 0, startedAt: nil, completedAt: nil, cancelledAt: nil, fanoutDone: status != .pending,
        total: total, sent: sent, failed: 0, cancelled: 0, pending: total - sent, jobID: nil)
}
