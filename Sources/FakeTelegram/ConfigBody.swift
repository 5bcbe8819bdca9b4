import Jobs
import Foundation

/// `GET /fake/config`. The token stays out: these answers end up in logs.
struct ConfigBody: Encodable {
    var host: String
    var port: Int
    var globalPerSecond: Int
    var perChatPerSecond: Int
    var groupPerMinute: Int
    var paidPerSecond: Int
    var blocked: [Int64]
    var unknownChats: [Int64]
    var failureRate: Double
    var slowRate: Double
    var gatewayAfterRecordRate: Double
    var slowDelayMs: Int64
    var failNext: Int
    var failStatus: Int

    init(_ configuration: FakeTelegramServer.Configuration, port: Int, failNext: FailNext) {
        host = configuration.host
        self.port = port
        globalPerSecond = configuration.globalPerSecond
        perChatPerSecond = configuration.perChatPerSecond
        groupPerMinute = configuration.groupPerMinute
        paidPerSecond = configuration.paidPerSecond
        blocked = configuration.blocked.sorted()
        unknownChats = configuration.unknownChats.sorted()
        failureRate = configuration.failureRate
        slowRate = configuration.slowRate
        gatewayAfterRecordRate = configuration.gatewayAfterRecordRate
        slowDelayMs = configuration.slowDelay.milliseconds
        self.failNext = failNext.count
        failStatus = failNext.status
    }
}
