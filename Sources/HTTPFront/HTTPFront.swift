import Hummingbird
import Jobs
import Logging
import Producers
import Prometheus
import ThePredKinds

public enum HTTPFront {
    /// Every route of the front on one router, error handling and metrics included.
    public static func router(configuration: FrontConfiguration, dependencies: FrontDependencies) -> Router<FrontRequestContext> {
        let metrics = FrontMetrics(registry: dependencies.registry)
        let clock = dependencies.clock
        let auth = Authenticator(
            verifier: InitDataVerifier(botToken: configuration.botToken, maxAge: configuration.initDataMaxAge),
            adminToken: configuration.adminToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) },
            clock: { clock.nowMillis() })
        let routes = FrontRoutes(
            deps: dependencies, auth: auth, metrics: metrics, client: JobClient(driver: dependencies.driver, clock: clock))
        // Middleware must come before the routes, and the error middleware needs the routes'
        // methods for 405, so they are read from a router that has only the routes.
        let plain = Router(context: FrontRequestContext.self)
        routes.addAll(to: plain)
        let router = Router(context: FrontRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(
            middleware: ErrorMiddleware(
                metrics: metrics, routes: RouteMethods(plain.routes.map { ($0.path.description, $0.method.rawValue) })))
        routes.addAll(to: router)
        return router
    }

    /// The application: a ServiceLifecycle service that, on graceful shutdown, stops accepting
    /// connections and lets the requests in flight finish.
    public static func application(
        configuration: FrontConfiguration, dependencies: FrontDependencies, logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(configuration: configuration, dependencies: dependencies),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "thepred-front"),
            logger: logger)
    }

    /// The OpenAPI document the front serves at `/openapi.yaml` (`schemas/openapi.yaml`).
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_yaml }
}
