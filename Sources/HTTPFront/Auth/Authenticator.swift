import Crypto
import Foundation
import Jobs

/// Decides who is asking from the Authorization header.
struct Authenticator: Sendable {
    let verifier: InitDataVerifier
    let adminToken: [UInt8]?
    let clock: @Sendable () -> Int64

    func caller(_ authorization: String?) throws(APIError) -> Caller {
        guard let authorization, !authorization.isEmpty else {
            throw InitDataVerifier.refused("missing Authorization header: send `tma <init data>` or `Bearer <admin token>`")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { throw InitDataVerifier.refused("malformed Authorization header") }
        switch parts[0].lowercased() {
        case "tma":
            return .user(try verifier.verify(String(parts[1]), now: clock() / 1000))
        case "bearer":
            guard let adminToken, Self.constantTimeEqual(Array(parts[1].utf8), adminToken) else {
                throw InitDataVerifier.refused("bad admin token")
            }
            return .admin
        default:
            throw InitDataVerifier.refused("unknown Authorization scheme \(parts[0].prefix(20)); use tma or Bearer")
        }
    }

    func user(_ authorization: String?) throws(APIError) -> TelegramUser {
        switch try caller(authorization) {
        case .user(let u): return u
        case .admin: throw APIError(.forbidden, .forbidden, "this route is for Telegram users; send `tma <init data>`")
        }
    }

    func admin(_ authorization: String?) throws(APIError) {
        if case .user = try caller(authorization) { throw APIError(.forbidden, .forbidden, "this route is for admins") }
    }

    /// Compares without an early exit, so the time taken does not tell how much of a guess matched.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count { diff |= (i < a.count ? a[i] : 0) ^ b[i] }
        return diff == 0
    }
}
