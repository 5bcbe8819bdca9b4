import HTTPTypes
import Hummingbird
import Jobs

/// Which methods each route path takes, so a known path under another method is a 405 with Allow.
struct RouteMethods: Sendable {
    /// Per route, its path segments (nil for a `{parameter}`) and its method.
    private let routes: [(segments: [String?], method: String)]

    init(_ routes: [(path: String, method: String)]) {
        self.routes = routes.map { route in
            (route.path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : String($0) }, route.method)
        }
    }

    /// The methods of the routes whose pattern matches `path`, sorted; empty when none does.
    func allowed(path: String) -> [String] {
        let parts = path.split(separator: "/")
        let methods = routes.filter { route in
            route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0 == nil || $0! == $1 }
        }.map(\.method)
        return Set(methods).sorted()
    }
}
