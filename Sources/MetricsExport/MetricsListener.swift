import Hummingbird
import Logging
import Prometheus
import Synchronization

/// The `/metrics` listener every process runs (`--metrics-port`, loopback unless `--metrics-host`
/// says otherwise): its figures name queues and rates that are nobody else's business.
public enum MetricsListener {
    /// Prometheus text of `registry`. `refresh` runs before each scrape is rendered, for the
    /// figures read from elsewhere at scrape time (queues, backlogs); it must throttle itself.
    /// `/healthz` answers while the process runs; `/readyz` is 503 while `ready` says no (its
    /// store is out of reach), for orchestrators' probes of processes that have no API of their own.
    public static func router(
        registry: PrometheusCollectorRegistry, refresh: @escaping @Sendable (Logger) async -> Void = { _ in },
        ready: (@Sendable () async -> Bool)? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        if let ready {
            router.get("/healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
            router.get("/readyz") { _, _ in
                await ready() ? Self.json(.ok, #"{"status":"ready"}"#) : Self.json(.serviceUnavailable, #"{"status":"unavailable"}"#)
            }
        }
        let refreshing = Mutex(false)
        router.get("/metrics") { _, context in
            // A store that hangs must not fail the scrape (that would read as this process down):
            // the figures are rendered as last read after `refreshLimit`, and no second refresh
            // starts while one is still out.
            let start = refreshing.withLock { busy in
                defer { busy = true }
                return !busy
            }
            if start {
                await bounded(refreshLimit) {
                    await refresh(context.logger)
                    refreshing.withLock { $0 = false }
                }
            }
            var out: [UInt8] = []
            out.reserveCapacity(16 * 1024)
            registry.emit(into: &out)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }
        return router
    }

    /// How long a scrape waits for its refresh before it answers with the figures as last read.
    public static let refreshLimit: Duration = .seconds(2)

    /// Runs `work` and returns when it ends or after `limit`, whichever is first; `work` goes on.
    static func bounded(_ limit: Duration, _ work: @escaping @Sendable () async -> Void) async {
        let resumed = Mutex(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finish: @Sendable () -> Void = {
                let first = resumed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume() }
            }
            Task {
                await work()
                finish()
            }
            Task {
                try? await Task.sleep(for: limit)
                finish()
            }
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The listener as a ServiceLifecycle service.
    public static func application(
        registry: PrometheusCollectorRegistry, host: String, port: Int, serverName: String, logger: Logger,
        refresh: @escaping @Sendable (Logger) async -> Void = { _ in }, ready: (@Sendable () async -> Bool)? = nil
    ) -> some ApplicationProtocol {
        Application(
            router: router(registry: registry, refresh: refresh, ready: ready),
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            logger: logger)
    }
}
