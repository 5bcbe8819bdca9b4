extension FakeTelegramServer {
    /// How many requests got each kind of answer since the start or the last reset.
    public struct Stats: Sendable, Equatable, Codable {
        /// 200: recorded.
        public var accepted = 0
        /// Those of `accepted` in the paid lane.
        public var paidAccepted = 0
        /// Those of `accepted` answered 502 all the same (``Configuration/gatewayAfterRecordRate``).
        public var gatewayAfterRecord = 0
        /// 429: a flood limit.
        public var tooManyRequests = 0
        /// Those of `tooManyRequests` where one chat's limit was in the way (1/s, a group's 20/min).
        public var tooManyPerChat = 0
        /// 403: blocked by the user.
        public var forbidden = 0
        /// 400, and 413 for a body over 1 MiB: the request itself is wrong.
        public var badRequest = 0
        /// 401: wrong token.
        public var unauthorized = 0
        /// 404: unknown method or path.
        public var notFound = 0
        /// Injected 5xx.
        public var serverErrors = 0
        /// Requests that waited `slowDelay` first (they are counted again by their answer).
        public var slowed = 0

        /// Every Bot API request answered.
        public var total: Int {
            accepted + tooManyRequests + forbidden + badRequest + unauthorized + notFound + serverErrors
        }

        public init() {}

        enum CodingKeys: String, CodingKey {
            case accepted, forbidden, unauthorized, slowed, total
            case paidAccepted = "paid_accepted"
            case gatewayAfterRecord = "gateway_after_record"
            case tooManyRequests = "too_many_requests"
            case tooManyPerChat = "too_many_per_chat"
            case badRequest = "bad_request"
            case notFound = "not_found"
            case serverErrors = "server_errors"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            accepted = try c.decode(Int.self, forKey: .accepted)
            paidAccepted = try c.decode(Int.self, forKey: .paidAccepted)
            gatewayAfterRecord = try c.decodeIfPresent(Int.self, forKey: .gatewayAfterRecord) ?? 0
            tooManyRequests = try c.decode(Int.self, forKey: .tooManyRequests)
            tooManyPerChat = try c.decodeIfPresent(Int.self, forKey: .tooManyPerChat) ?? 0
            forbidden = try c.decode(Int.self, forKey: .forbidden)
            badRequest = try c.decode(Int.self, forKey: .badRequest)
            unauthorized = try c.decode(Int.self, forKey: .unauthorized)
            notFound = try c.decode(Int.self, forKey: .notFound)
            serverErrors = try c.decode(Int.self, forKey: .serverErrors)
            slowed = try c.decode(Int.self, forKey: .slowed)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(accepted, forKey: .accepted)
            try c.encode(paidAccepted, forKey: .paidAccepted)
            try c.encode(gatewayAfterRecord, forKey: .gatewayAfterRecord)
            try c.encode(tooManyRequests, forKey: .tooManyRequests)
            try c.encode(tooManyPerChat, forKey: .tooManyPerChat)
            try c.encode(forbidden, forKey: .forbidden)
            try c.encode(badRequest, forKey: .badRequest)
            try c.encode(unauthorized, forKey: .unauthorized)
            try c.encode(notFound, forKey: .notFound)
            try c.encode(serverErrors, forKey: .serverErrors)
            try c.encode(slowed, forKey: .slowed)
            try c.encode(total, forKey: .total)
        }
    }
}
