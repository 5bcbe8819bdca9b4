/// Everything the CLI and the worker use; both shipped drivers have it.
public typealias FullJobQueueDriver = JobQueueDriver & DelayedJobDriver & JobStatusDriver & DeadLetterDriver
    & QueueInspectionDriver
