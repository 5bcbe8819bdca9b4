import Jobs

/// Every job kind this platform runs, with its handler. New kinds are added here.
public enum AppHandlers {
    public static func all() throws -> JobHandlers {
        var handlers = JobHandlers()
        try handlers.register(SystemNoop.kind, handler: SystemNoopHandler.handle)
        return handlers
    }
}
