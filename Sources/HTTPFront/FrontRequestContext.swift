import Hummingbird
import Jobs
import Logging
import Producers
import Prometheus
import ThePredKinds

/// The request context: the 64 KiB body limit applies to every body the front reads.
public struct FrontRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, for the per-address limit of requests without credentials.
    public let remoteAddress: String?
    /// Who the rate-limit middleware found asking; nil when it did not look or found no one.
    var caller: Caller?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
    public var maxUploadSize: Int { FrontConfiguration.maxBodyBytes }
}
