@testable import FakeTelegram
@testable import Game
import Testing

@Suite("Notifications")
struct NotificationsTests {
    /// Titles whose `<`, `>` or `&` a walk over Characters misses: each is one Character with a
    /// combining mark, so it is not equal to the bare sign.
    static let combining = ["A <\u{338} B", "A >\u{338} B", "&\u{301}amp;", "<\u{338}b>bold</b>", "x <\u{20D2}y"]

    @Test("escaping covers signs that combine with the next scalar", arguments: combining)
    func combiningMarks(title: String) throws {
        let escaped = Notifications.escape(title)
        #expect(!escaped.utf8.contains(UInt8(ascii: "<")))
        #expect(!escaped.utf8.contains(UInt8(ascii: ">")))
        // The fake's HTML parser (tdlib's rules, byte by byte) takes it, and shows the title as written.
        let visible = try Markup.parse("<b>\(escaped)</b>", parseMode: "HTML")
        #expect(String(decoding: visible.bytes, as: UTF8.self) == title)
    }

    @Test("plain, emoji and already-escaped titles")
    func plain() {
        #expect(Notifications.escape("Will BTC > $100k & ETH < $5k?") == "Will BTC &gt; $100k &amp; ETH &lt; $5k?")
        #expect(Notifications.escape("🇺🇦 Кубок 2026 👍🏽") == "🇺🇦 Кубок 2026 👍🏽")
        #expect(Notifications.escape("&lt;") == "&amp;lt;")
        #expect(Notifications.escape("") == "")
    }
}
