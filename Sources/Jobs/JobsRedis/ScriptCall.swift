import Synchronization

/// One EVALSHA call: a script with its keys and arguments.
struct ScriptCall {
    let script: RedisScript
    let keys: [String]
    let args: [any RESPArgument]
}
