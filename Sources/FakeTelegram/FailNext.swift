/// The next requests that answer an injected 5xx.
struct FailNext: Sendable {
    var count = 0
    var status = 502
}
