import Hummingbird
import Jobs
import Logging
import MetricsExport
import Producers
import Prometheus
import ThePredKinds

public enum HTTPFront {
    /// Every route of the API on one router, with CORS, rate limits, error handling and metrics.
    public static func router(configuration: FrontConfiguration, dependencies: FrontDependencies) -> Router<FrontRequestContext> {
        let routes = routes(configuration, dependencies)
        // Middleware must come before the routes, and the error middleware needs the routes'
        // methods for 405, so they are read from a router that has only the routes.
        let plain = Router(context: FrontRequestContext.self)
        routes.addAll(to: plain)
        let router = Router(context: FrontRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: routes.metrics))
        // Outside the error middleware, so that refusals carry the CORS headers a page needs to read them.
        router.add(middleware: CORSMiddleware(policy: configuration.cors))
        router.add(
            middleware: ErrorMiddleware(
                metrics: routes.metrics, routes: RouteMethods(plain.routes.map { ($0.path.description, $0.method.rawValue) })))
        router.add(middleware: RateLimitMiddleware(limits: configuration.rateLimits, limiter: dependencies.rateLimiter, auth: routes.auth))
        routes.addAll(to: router)
        return router
    }

    /// `/metrics` alone, for a listener apart from the API's (`--metrics-port`, loopback by
    /// default): the figures name queues and rates that are nobody else's business. The queues'
    /// gauges are read at scrape time, at most once a second.
    public static func metricsRouter(dependencies: FrontDependencies) -> Router<BasicRequestContext> {
        let gauges = QueueGauges(registry: dependencies.registry)
        let (driver, clock) = (dependencies.driver, dependencies.clock)
        return MetricsListener.router(registry: dependencies.registry) { logger in
            await gauges.refresh(from: driver, nowMillis: clock.nowMillis(), logger: logger)
        }
    }

    private static func routes(_ configuration: FrontConfiguration, _ dependencies: FrontDependencies) -> FrontRoutes {
        let clock = dependencies.clock
        let auth = Authenticator(
            verifier: InitDataVerifier(botToken: configuration.botToken, maxAge: configuration.initDataMaxAge),
            adminToken: configuration.adminToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) },
            clock: { clock.nowMillis() })
        return FrontRoutes(
            deps: dependencies, auth: auth, metrics: FrontMetrics(registry: dependencies.registry),
            client: JobClient(driver: dependencies.driver, clock: clock))
    }

    /// The API's server: a ServiceLifecycle service that, on graceful shutdown, stops accepting
    /// connections and lets the requests in flight finish. It closes idle connections, bodies
    /// that do not end in time, and connections past the cap.
    public static func application(
        configuration: FrontConfiguration, dependencies: FrontDependencies, logger: Logger
    ) -> some ApplicationProtocol {
        let counter = ConnectionCapHandler.Counter(limit: configuration.maxConnections)
        let bodyTimeout = configuration.bodyTimeout
        return Application(
            router: router(configuration: configuration, dependencies: dependencies),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [ConnectionCapHandler(counter: counter), BodyDeadlineHandler(timeout: bodyTimeout)],
                    idleTimeout: .milliseconds(configuration.idleTimeout.milliseconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "thepred-front"),
            logger: logger)
    }

    /// The metrics listener's server.
    public static func metricsApplication(dependencies: FrontDependencies, host: String, port: Int, logger: Logger)
        -> some ApplicationProtocol
    {
        Application(
            router: metricsRouter(dependencies: dependencies),
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(host, port: port), serverName: "thepred-front-metrics"),
            logger: logger)
    }

    /// The OpenAPI document the front serves at `/openapi.yaml` (`schemas/openapi.yaml`).
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_yaml }
}
