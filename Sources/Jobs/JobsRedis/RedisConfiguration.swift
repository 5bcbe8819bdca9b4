/// Where and how to reach Redis, parsed from a `redis://[:password@]host[:port][/db]` URL.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// How long one connect attempt may take.
    public var connectTimeout: Duration
    /// Longest wait between reconnect attempts.
    public var maxReconnectBackoff: Duration

    public static let defaultURL = "redis://127.0.0.1:6379/0"

    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, connectTimeout: Duration = .seconds(2), maxReconnectBackoff: Duration = .seconds(2)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.maxReconnectBackoff = maxReconnectBackoff
    }

    public init(url: String) throws(RedisError) {
        self.init()
        guard url.hasPrefix("redis://") else {
            throw RedisError(code: .badURL, message: "\(url.redactingPassword): must start with redis://")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0 else {
                    throw RedisError(code: .badURL, message: "\(url.redactingPassword): database must be a number")
                }
                database = db
            }
        }
        if let at = rest.lastIndex(of: "@") {
            let auth = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = auth.firstIndex(of: ":") {
                let user = auth[..<colon]
                username = user.isEmpty ? nil : String(user).removingPercentEncodingSimple
                password = String(auth[auth.index(after: colon)...]).removingPercentEncodingSimple
            } else if !auth.isEmpty {
                password = String(auth).removingPercentEncodingSimple
            }
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw RedisError(code: .badURL, message: "\(url.redactingPassword): bad port")
            }
            port = p
            rest = rest[..<colon]
        }
        if !rest.isEmpty { host = String(rest) }
    }

    /// The URL with any password replaced, safe for logs.
    public var redactedURL: String {
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(auth)\(host):\(port)/\(database)"
    }
}

extension String {
    var redactingPassword: String {
        guard let at = lastIndex(of: "@"), let scheme = range(of: "://") else { return self }
        return String(self[..<scheme.upperBound]) + "***" + String(self[at...])
    }

    var removingPercentEncodingSimple: String {
        var out = [UInt8]()
        var it = utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%"), let h = it.next(), let l = it.next(),
                let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                out.append(v)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
