import CHiredis
import Foundation
import Jobs

struct Request {
    let commands: [RedisCommand]
    let continuation: CheckedContinuation<[RESPValue], any Error>
}
