import Hummingbird
import Logging
import Prometheus

/// The `/metrics` listener every process runs (`--metrics-port`, loopback unless `--metrics-host`
/// says otherwise): its figures name queues and rates that are nobody else's business.
public enum MetricsListener {
    /// Prometheus text of `registry`. `refresh` runs before each scrape is rendered, for the
    /// figures read from elsewhere at scrape time (queues, backlogs); it must throttle itself.
    public static func router(
        registry: PrometheusCollectorRegistry, refresh: @escaping @Sendable (Logger) async -> Void = { _ in }
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, context in
            await refresh(context.logger)
            var out: [UInt8] = []
            out.reserveCapacity(16 * 1024)
            registry.emit(into: &out)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }
        return router
    }

    /// The listener as a ServiceLifecycle service.
    public static func application(
        registry: PrometheusCollectorRegistry, host: String, port: Int, serverName: String, logger: Logger,
        refresh: @escaping @Sendable (Logger) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(registry: registry, refresh: refresh),
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            logger: logger)
    }
}
