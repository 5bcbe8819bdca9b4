import Hummingbird

/// Lets only the admin token through, for every route of the group it is added to: 401 without
/// credentials, 403 for a user's init data.
struct AdminOnlyMiddleware: RouterMiddleware {
    typealias Context = FrontRequestContext
    let auth: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try auth.admin(request.headers[.authorization])
        return try await next(request, context)
    }
}
