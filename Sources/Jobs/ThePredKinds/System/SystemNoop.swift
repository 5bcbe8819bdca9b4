import Jobs

/// `system.noop`: does nothing. Used by `thepred bench queue` and to check a deployment end to end.
public struct SystemNoop: Codable, Sendable, Equatable {
    /// Free text that shows up in the logs of the worker that ran it.
    public var tag: String?

    public init(tag: String? = nil) { self.tag = tag }

    public static let kind = JobKind<SystemNoop>("system.noop", queue: "default", retry: .never, timeout: .seconds(5))
}
