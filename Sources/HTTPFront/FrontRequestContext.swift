import Hummingbird
import Jobs
import Logging
import Producers
import Prometheus
import ThePredKinds

/// The request context: the 64 KiB body limit applies to every body the front reads.
public struct FrontRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    public var maxUploadSize: Int { FrontConfiguration.maxBodyBytes }
}
