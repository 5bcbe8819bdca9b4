import Foundation

/// Which web origins may call the front from a browser: a Mini App is a page, usually served
/// from another origin than the API. Origins are compared as browsers send them in `Origin`:
/// scheme, host and port, lower case, no path.
public struct CORSPolicy: Sendable, Equatable {
    /// The allowed origins; empty, no browser page on another origin may call the front.
    public let origins: Set<String>
    /// How long a browser may keep a preflight's answer.
    public var maxAge: Duration

    /// The methods the API's routes take.
    static let methods = "GET, POST, DELETE, OPTIONS"
    /// What a Mini App sends: its init data or the admin token, a JSON body, and a retry's key.
    static let allowedHeaders = "Authorization, Content-Type, Idempotency-Key"
    /// What a page may read from an answer besides the safelisted headers.
    static let exposedHeaders = "Location, Retry-After, Idempotent-Replayed, Allow"

    /// Why a list of origins is refused.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameter list: comma-separated origins, such as `https://app.example.com, http://localhost:5173`
    ///   (`FRONT_CORS_ORIGINS`); empty means none.
    public init(list: String, maxAge: Duration = .seconds(600)) throws(Invalid) {
        var origins = Set<String>()
        for raw in list.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            origins.insert(try Self.origin(entry))
        }
        self.origins = origins
        self.maxAge = maxAge
    }

    /// No origin allowed.
    public static let none = try! CORSPolicy(list: "")

    func allows(_ origin: String) -> Bool { origins.contains(origin.lowercased()) }

    /// `scheme://host[:port]` in lower case, or why not.
    static func origin(_ entry: String) throws(Invalid) -> String {
        let lower = entry.lowercased()
        guard let colon = lower.range(of: "://") else {
            throw Invalid(description: "CORS origin \(entry) must be scheme://host[:port], such as https://app.example.com")
        }
        let scheme = lower[..<colon.lowerBound]
        let authority = lower[colon.upperBound...]
        guard scheme == "https" || scheme == "http" else {
            throw Invalid(description: "CORS origin \(entry): the scheme must be https or http")
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.:[]")
        guard !authority.isEmpty, authority.allSatisfy({ allowed.contains($0) }), !authority.hasPrefix(":") else {
            throw Invalid(
                description: "CORS origin \(entry) must be scheme://host[:port] with no path, user, query or wildcard (list each origin)")
        }
        return lower
    }
}
