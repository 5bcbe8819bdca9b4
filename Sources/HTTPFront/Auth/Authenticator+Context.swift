import Hummingbird

extension Authenticator {
    /// The signed user of a request, as the rate-limit middleware found it, or verified here.
    func user(_ request: Request, _ context: FrontRequestContext) throws(APIError) -> TelegramUser {
        if case .user(let user)? = context.caller { return user }
        return try user(request.headers[.authorization])
    }
}
