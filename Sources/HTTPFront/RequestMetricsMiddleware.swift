import HTTPTypes
import Hummingbird
import Jobs
import Prometheus
import Synchronization

/// Counts and times every answer, refusals included (it sits outside the error middleware).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: FrontMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method, status: status, duration: .now - start)
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: context.endpointPath ?? "unmatched", method: request.method, status: status, duration: .now - start)
            throw error
        }
    }
}
