/// A payload that writes its own JSON, for kinds enqueued on hot paths where JSONEncoder costs
/// more than the enqueue (the front's bets). `jsonBytes()` must decode to the same value as the
/// Codable form; each conforming kind has a test that checks it.
public protocol SelfEncodingPayload: Codable {
    func jsonBytes() -> [UInt8]
}
