import Jobs
import Testing
import ThePredKinds

@Suite("Broadcast requests")
struct BroadcastRequestTests {
    static let now: Int64 = 1_800_000_000_000

    static func refusal(_ r: BroadcastRequest) -> FieldError? {
        do { try r.validate(now: now); return nil } catch { return error }
    }

    @Test("valid requests pass")
    func valid() throws {
        try BroadcastRequest(text: String(repeating: "a", count: 4096)).validate(now: Self.now)
        try BroadcastRequest(text: String(repeating: "é", count: 1024), photoURL: "https://cdn.example/p.png").validate(now: Self.now)
        try BroadcastRequest(text: "*hi*", parseMode: .markdown, target: .user, telegramID: 42, scheduledAtMillis: Self.now + 1)
            .validate(now: Self.now)
    }

    @Test(
        "each broken rule names its field",
        arguments: [
            (BroadcastRequest(text: ""), "text"),
            (BroadcastRequest(text: "  \n"), "text"),
            (BroadcastRequest(text: String(repeating: "a", count: 4097)), "text"),
            (BroadcastRequest(text: String(repeating: "a", count: 1025), photoURL: "https://x.example/p.jpg"), "text"),
            (BroadcastRequest(text: "hi", photoURL: "ftp://x.example/p.jpg"), "photo_url"),
            (BroadcastRequest(text: "hi", photoURL: "not a url"), "photo_url"),
            (BroadcastRequest(text: "hi", target: .user), "telegram_id"),
            (BroadcastRequest(text: "hi", target: .all, telegramID: 5), "telegram_id"),
            (BroadcastRequest(text: "hi", scheduledAtMillis: now), "scheduled_at"),
        ])
    func refused(request: BroadcastRequest, field: String) {
        #expect(Self.refusal(request)?.field == field)
    }
}
