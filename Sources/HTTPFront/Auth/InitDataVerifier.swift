import Crypto
import Foundation
import Jobs

/// Checks Telegram Mini App init data the way Telegram specifies: the fields but `hash`, sorted
/// and joined as `key=value` lines, signed with HMAC-SHA256 under HMAC-SHA256("WebAppData", bot token).
public struct InitDataVerifier: Sendable {
    /// HMAC-SHA256("WebAppData", bot token): made once, since every user request needs it.
    private let secret: SecretKey
    /// Init data older than this is refused, however well signed.
    public let maxAge: Duration
    /// Seconds an auth_date may be ahead of this machine's clock.
    static let allowedSkew: Int64 = 300

    /// SymmetricKey is not Sendable; this one is never changed after `init`. `keyed` has the key
    /// hashed in already, so each check starts from a copy instead of hashing it again.
    private final class SecretKey: @unchecked Sendable {
        let key: SymmetricKey
        let keyed: HMAC<SHA256>
        init(_ key: SymmetricKey) {
            self.key = key
            keyed = HMAC(key: key)
        }
    }

    public init(botToken: String, maxAge: Duration = .seconds(86_400)) {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(botToken.utf8), using: SymmetricKey(data: Array("WebAppData".utf8)))
        secret = SecretKey(SymmetricKey(data: Array(mac)))
        self.maxAge = maxAge
    }

    /// The user, or the reason the init data is not trusted. `now` is seconds since the epoch.
    /// Works on bytes: it runs on every user request.
    public func verify(_ initData: String, now: Int64) throws(APIError) -> TelegramUser {
        var pairs: [(key: [UInt8], value: [UInt8])] = []
        var hash: [UInt8]?
        for part in Array(initData.utf8).split(separator: UInt8(ascii: "&")) {
            guard let eq = part.firstIndex(of: UInt8(ascii: "=")), let key = Self.formDecode(part[..<eq]),
                let value = Self.formDecode(part[(eq + 1)...])
            else { throw Self.refused("init data is not a URL-encoded query string") }
            // The check string joins `key=value` lines: a key with `=` or a line break in it could be
            // read as another split of the same bytes.
            if key.contains(UInt8(ascii: "=")) || key.contains(UInt8(ascii: "\n")) {
                throw Self.refused("init data has a field name with '=' or a line break in it")
            }
            if key.elementsEqual("hash".utf8) {
                guard hash == nil else { throw Self.refused("init data repeats hash") }
                hash = value
            } else {
                pairs.append((key, value))
            }
        }
        guard let hash, let expected = Self.hexBytes(hash), expected.count == SHA256.byteCount else {
            throw Self.refused("init data has no valid hash")
        }
        pairs.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var check: [UInt8] = []
        check.reserveCapacity(initData.utf8.count)
        for (i, pair) in pairs.enumerated() {
            if i > 0 {
                // A repeated field could be read two ways; Telegram never sends one.
                guard pairs[i - 1].key != pair.key else { throw Self.refused("init data repeats a field") }
                check.append(UInt8(ascii: "\n"))
            }
            check += pair.key
            check.append(UInt8(ascii: "="))
            check += pair.value
        }
        var mac = secret.keyed
        mac.update(data: check)
        // A MAC compared with bytes is compared in constant time.
        guard mac.finalize() == expected else {
            throw Self.refused("init data signature does not match")
        }
        guard let authDate = Self.field("auth_date", pairs).flatMap({ Int64(String(decoding: $0, as: UTF8.self)) }), authDate > 0 else {
            throw Self.refused("init data has no auth_date")
        }
        // Telegram stamps auth_date when it signs; a later one only allows for clock skew.
        if authDate > now + Self.allowedSkew {
            throw Self.refused("init data auth_date is in the future")
        }
        if now - authDate > maxAge.components.seconds {
            throw Self.refused("init data expired: auth_date is older than \(maxAge.components.seconds) s")
        }
        guard let userJSON = Self.field("user", pairs), case .object(let user)? = try? JSONValue.parse(userJSON),
            case .int(let id)? = user["id"], id > 0
        else { throw Self.refused("init data has no user") }
        var username: String?
        // Telegram's usernames have at most 32 characters; anything else is not kept (the job schema allows 64).
        if case .string(let name)? = user["username"], (1...64).contains(name.unicodeScalars.count) { username = name }
        return TelegramUser(id: id, username: username)
    }

    private static func field(_ name: String, _ pairs: [(key: [UInt8], value: [UInt8])]) -> [UInt8]? {
        pairs.first { $0.key.elementsEqual(name.utf8) }?.value
    }

    /// Init data for `userID`, signed as Telegram signs it: for local tools and benchmarks that
    /// play the Mini App against a front that holds the same bot token.
    public func sign(userID: Int64, username: String?, authDate: Int64) -> String {
        var json = Array(#"{"id":\#(userID)"#.utf8)
        if let username {
            json += #","username":"#.utf8
            JSONText.appendString(username, to: &json)
        }
        json.append(UInt8(ascii: "}"))
        let user = String(decoding: json, as: UTF8.self)
        let fields = [("auth_date", String(authDate)), ("user", user)]
        let check = fields.map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        let mac = HMAC<SHA256>.authenticationCode(for: Array(check.utf8), using: secret.key)
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return (fields + [("hash", hex)]).map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            .joined(separator: "&")
    }

    static func refused(_ message: String) -> APIError { APIError(.unauthorized, .unauthorized, message) }

    /// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
    static func formDecode(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        if !s.contains(UInt8(ascii: "%")) && !s.contains(UInt8(ascii: "+")) { return Array(s) }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var it = s.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if c == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hi = hexValue(h), let lo = hexValue(l) else { return nil }
                out.append(hi << 4 | lo)
            } else {
                out.append(c)
            }
        }
        return out
    }

    static func hexBytes(_ u: [UInt8]) -> [UInt8]? {
        guard u.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = hexValue(u[i]), let lo = hexValue(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
