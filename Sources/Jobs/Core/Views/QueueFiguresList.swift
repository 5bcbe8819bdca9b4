/// The body of both `--json` and the route: every queue's figures.
public struct QueueFiguresList: Encodable, Sendable {
    public let queues: [QueueFiguresView]
    public init(queues: [QueueFiguresView]) { self.queues = queues }
}
