/// Every job kind of the platform, for tools that need the names and queues but not the handlers.
public enum AppKinds {
    public static func registry() throws(JobsError) -> JobRegistry {
        var registry = JobRegistry()
        try registry.register(SystemNoop.kind)
        return registry
    }
}
