import Jobs

extension JobEnvelope {
    /// Appends the fields to a command, as XADD wants them.
    public func appendFields(to command: inout RedisCommand) {
        for (name, value) in fields() {
            command.append(name)
            command.append(value)
        }
    }
}
