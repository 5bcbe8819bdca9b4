import Testing

@testable import FakeTelegram

@Suite struct MarkupTests {
    func html(_ text: String) throws(MarkupError) -> VisibleText { try Markup.parse(text, parseMode: "HTML") }
    func markdown(_ text: String) throws(MarkupError) -> VisibleText { try Markup.parse(text, parseMode: "Markdown") }

    func plain(_ visible: VisibleText) -> String { String(decoding: visible.bytes, as: UTF8.self) }

    @Test(arguments: [
        ("<b>bold</b>", "bold"),
        ("<strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>", "sieunskd"),
        (#"<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>"#, "xy"),
        (#"<a href="https://t.me/x?a=1&b=2">link</a>"#, "link"),
        (#"<a href='https://t.me/x?a=1&amp;b=2'>q</a>"#, "q"),
        ("<code>x &lt; y</code>", "x < y"),
        (#"<pre><code class="language-swift">let x = 1</code></pre>"#, "let x = 1"),
        ("<blockquote>q</blockquote><blockquote expandable>e</blockquote>", "qe"),
        (#"<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>"#, "👍"),
        ("&lt;tag&gt; &amp; &quot;q&quot; &#65;&#x42;&#X43;", #"<tag> & "q" ABC"#),
        ("<B>upper</B> <b >spaced</b >", "upper spaced"),
        ("a > b", "a > b"),
        ("<b>nested <i>fine</i></b>", "nested fine"),
        ("<b>closed by</>", "closed by"),
        ("Ставка принята 🎉", "Ставка принята 🎉"),
    ])
    func acceptsHTMLTelegramAccepts(text: String, shown: String) throws {
        #expect(plain(try html(text)) == shown)
    }

    @Test(arguments: [
        ("<b>open", "Can't find end tag corresponding to start tag \"b\""),
        ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\""),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("line<br>break", "Unsupported start tag \"br\" at byte offset 4"),
        ("<div>x</div>", "Unsupported start tag \"div\" at byte offset 0"),
        ("<span>x</span>", "Tag \"span\" must have class \"tg-spoiler\""),
        ("<tg-emoji>x</tg-emoji>", "Tag \"tg-emoji\" must have attribute \"emoji-id\""),
        ("a < b", "Unsupported start tag \"\" at byte offset 2"),
        ("1 <2 and 3", "Unsupported start tag \"2\" at byte offset 2"),
        ("1 <2", "Unclosed start tag at byte offset 2"),
        ("<b", "Unclosed start tag at byte offset 0"),
        (#"<a href="x>t</a>"#, "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<a =x>t</a>", "Empty attribute name in the tag \"a\" at byte offset 0"),
        ("<a href>t</a>", "Expected equal sign in declaration of an attribute of the tag \"a\" at byte offset 0"),
    ])
    func refusesMalformedHTML(text: String, expected: String) {
        #expect(throws: MarkupError(description: expected)) { try html(text) }
    }

    @Test(arguments: ["AT&T", "&nbsp;", "&amp", "&#;", "&#xZZ;", "&#0;", "&#x110000;", "&#xD800;", "& "])
    func refusesAnAmpersandThatBeginsNoEntity(text: String) {
        #expect(throws: MarkupError.self) { try html(text) }
    }

    @Test func countsUTF16UnitsOfTheShownText() throws {
        #expect(try html("<b>abc</b>").utf16Length == 3)
        #expect(try html("&amp;&#x1F600;").utf16Length == 3)
        #expect(try html("😀é").utf16Length == 3)
        #expect(try markdown("*ab* [c](https://example.com)").utf16Length == 4)
        #expect(try html("<b> \n</b>").isBlank)
        #expect(try !html("&#46;").isBlank)
    }

    @Test(arguments: [
        ("*bold* _it_ `code`", "bold it code"),
        ("```swift\nlet x = 1\n```", "let x = 1\n"),
        ("[link](https://example.com) and [bare]", "link and bare"),
        (#"\*not bold\* snake\_case"#, "*not bold* snake_case"),
        ("*a _b* c", "a _b c"),
        ("no marks <b>&", "no marks <b>&"),
    ])
    func acceptsLegacyMarkdown(text: String, shown: String) throws {
        #expect(plain(try markdown(text)) == shown)
    }

    @Test(arguments: [
        ("*bold", 0), ("x _it", 2), ("`code", 0), ("see [link", 4), ("```pre` `", 0),
    ])
    func refusesUnclosedMarkdown(text: String, offset: Int) {
        #expect(throws: MarkupError(description: "Can't find end of the entity starting at byte offset \(offset)")) {
            try markdown(text)
        }
    }

    @Test func otherParseModesAreTakenAsPlainText() throws {
        #expect(plain(try Markup.parse("<b>*x", parseMode: nil)) == "<b>*x")
        #expect(plain(try Markup.parse("<b>*x", parseMode: "MarkdownV2")) == "<b>*x")
        #expect(plain(try Markup.parse("<b>x</b>", parseMode: "html")) == "x")
    }
}
