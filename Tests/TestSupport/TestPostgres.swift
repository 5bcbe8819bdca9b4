import Foundation

/// The PostgreSQL server the tests use: THEPRED_TEST_DATABASE_URL, which ops/test sets after it
/// starts one on loopback. Tests that need it are skipped without it.
public enum TestPostgres {
    public static var serverURL: String? { ProcessInfo.processInfo.environment["THEPRED_TEST_DATABASE_URL"] }
    public static var available: Bool { serverURL != nil }

    /// The URL of database `name` on the test server.
    public static func url(database name: String) -> String {
        guard let base = serverURL, let slash = base.lastIndex(of: "/") else { return "" }
        return String(base[...slash]) + name
    }
}
