import Foundation
import HTTPFront
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Testing

/// The front's real server (HTTP/1 on a loopback port) against clients that never finish.
@Suite("HTTP front: connection deadlines and the connection cap")
struct ConnectionTests {
    static func fixture(_ change: @escaping @Sendable (inout FrontConfiguration) -> Void) -> FrontFixture {
        var f = FrontFixture()
        f.configure = { c in
            c.port = 0
            change(&c)
        }
        return f
    }

    /// A raw connection that writes `text` and then nothing.
    static func open(_ port: Int, writing text: String) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        if !text.isEmpty { try await channel.writeAndFlush(ByteBuffer(string: text)).get() }
        return channel
    }

    /// How many channels are still open at `deadline` (those are closed here).
    static func allClose(_ channels: [any Channel], by deadline: ContinuousClock.Instant) async -> Int {
        var open = 0
        for channel in channels {
            let closed = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await channel.closeFuture.get()) != nil }
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    return !channel.isActive
                }
                let first = await group.next()!
                group.cancelAll()
                return first
            }
            if !closed {
                open += 1
                try? await channel.close()
            }
        }
        return open
    }

    @Test(
        "a thousand unfinished requests (half a head, or a body that stops) are closed within the deadline; valid requests are answered meanwhile"
    )
    func unfinishedRequests() async throws {
        let f = Self.fixture {
            $0.idleTimeout = .seconds(2)
            $0.bodyTimeout = .seconds(2)
        }
        let app = HTTPFront.application(configuration: f.configuration, dependencies: f.dependencies, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var channels: [any Channel] = []
            let started = ContinuousClock.now
            for i in 0..<1000 {
                // Valid requests meanwhile, often enough that the test client's own connection is
                // never idle for the 2 s idle timeout.
                if i % 50 == 0 { #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok) }
                let text = i % 2 == 0 ? "POST /v1/bets HTTP/1.1\r\nHost: x\r\nContent-Ty" : Self.betHead + "{\"mar"
                channels.append(try await Self.open(port, writing: text))
            }
            for _ in 0..<20 {
                let bet = try await client.execute(
                    uri: "/v1/bets", method: .post, headers: FrontFixture.user(),
                    body: FrontFixture.body(#"{"market_id":1,"outcome":"YES","stake":2}"#))
                #expect(bet.status == .accepted)
            }
            let stillOpen = await Self.allClose(channels, by: started + .seconds(6))
            #expect(stillOpen == 0, "\(stillOpen) of 1000 connections outlived the 2 s deadlines by 4 s")
        }
    }

    /// A bet's head with valid init data and a 100-byte body to come.
    static var betHead: String {
        "POST /v1/bets HTTP/1.1\r\nHost: x\r\nAuthorization: tma \(FrontFixture.initData())\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    }

    @Test("a body sent a byte every 200 ms is cut off at the body deadline, not before, though the connection is never idle")
    func slowBody() async throws {
        let f = Self.fixture {
            $0.idleTimeout = .seconds(30)
            $0.bodyTimeout = .seconds(2)
        }
        let app = HTTPFront.application(configuration: f.configuration, dependencies: f.dependencies, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var channels: [any Channel] = []
            for _ in 0..<100 { channels.append(try await Self.open(port, writing: Self.betHead)) }
            let started = ContinuousClock.now
            var openAtOneAndAHalf = -1
            while ContinuousClock.now - started < .seconds(4) {
                for channel in channels where channel.isActive { _ = try? await channel.writeAndFlush(ByteBuffer(string: " ")).get() }
                if openAtOneAndAHalf < 0, ContinuousClock.now - started >= .milliseconds(1500) {
                    openAtOneAndAHalf = channels.filter(\.isActive).count
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(openAtOneAndAHalf == 100, "only \(openAtOneAndAHalf) of 100 slow bodies were still open at 1.5 s")
            #expect(await Self.allClose(channels, by: .now + .seconds(2)) == 0)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test("past the connection cap a new connection is closed as it opens; one closing makes room")
    func connectionCap() async throws {
        let f = Self.fixture { $0.maxConnections = 50 }
        let app = HTTPFront.application(configuration: f.configuration, dependencies: f.dependencies, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // The test client holds a connection of its own, so 49 or 50 of these fit under the cap.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            var opened: [any Channel] = []
            for _ in 0..<60 { opened.append(try await Self.open(port, writing: "")) }
            try await Task.sleep(for: .milliseconds(500))
            let open = opened.filter(\.isActive)
            #expect((49...50).contains(open.count), "\(open.count) of 60 stayed open under a cap of 50")
            for channel in open { try await channel.close() }
            try await Task.sleep(for: .milliseconds(300))
            let later = try await Self.open(port, writing: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try await Task.sleep(for: .milliseconds(300))
            #expect(later.isActive)  // room again: it is answered and kept alive
            try await later.close()
        }
    }
}
