import Testing

@testable import FakeTelegram

/// The flood limits on the state itself, with instants made up: exact boundaries, no sleeping.
@Suite struct FloodLimitTests {
    let t0 = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    func message(_ chat: Int64, paid: Bool = false) -> SendRequest {
        SendRequest(method: .sendMessage, chatID: chat, text: "hi", photo: nil, parseMode: "HTML", paid: paid)
    }

    func refusal(_ result: Result<FakeTelegramServer.Message, BotRefusal>) -> BotRefusal? {
        if case .failure(let refusal) = result { return refusal }
        return nil
    }

    @Test func globalLimitRefusesThe31stInASecondAndSaysWhenToRetry() {
        var state = FakeTelegramState(configuration: .init())
        for i in 0..<30 {
            #expect(refusal(state.send(message(Int64(i + 1)), now: at(i * 10), unixMillis: 0)) == nil)
        }
        let refused = refusal(state.send(message(100), now: at(300), unixMillis: 0))
        #expect(refused == .tooManyRequests(retryAfter: 1))
        #expect(refused?.description == "Too Many Requests: retry after 1")
        // Half-open window: the first message stops counting exactly one second after it.
        #expect(refusal(state.send(message(100), now: at(999), unixMillis: 0)) != nil)
        #expect(refusal(state.send(message(100), now: at(1000), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(101), now: at(1000), unixMillis: 0)) != nil)
        #expect(refusal(state.send(message(101), now: at(1010), unixMillis: 0)) == nil)
        #expect(state.messages.count == 32)
        #expect(state.stats.accepted == 32)
        #expect(state.stats.tooManyRequests == 3)
    }

    @Test func retryAfterIsWholeSecondsRoundedUp() {
        var state = FakeTelegramState(configuration: .init(globalPerSecond: 1, groupPerMinute: 1))
        #expect(refusal(state.send(message(-5), now: at(0), unixMillis: 0)) == nil)
        // The group's minute frees at 60 s: 59.5 s from now is 60 whole seconds.
        #expect(refusal(state.send(message(-5), now: at(500), unixMillis: 0))?.retryAfter == 60)
        #expect(refusal(state.send(message(-5), now: at(59_001), unixMillis: 0))?.retryAfter == 1)
        #expect(refusal(state.send(message(-5), now: at(60_000), unixMillis: 0)) == nil)
    }

    @Test func perChatLimitIsOnePerSecondAndLeavesOtherChatsAlone() {
        var state = FakeTelegramState(configuration: .init())
        #expect(refusal(state.send(message(7), now: at(0), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(7), now: at(500), unixMillis: 0)) == .tooManyRequests(retryAfter: 1))
        #expect(refusal(state.send(message(8), now: at(500), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(7), now: at(1000), unixMillis: 0)) == nil)
        #expect(state.messages.map(\.chatID) == [7, 8, 7])
    }

    @Test func groupsTakeTwentyAMinute() {
        var state = FakeTelegramState(configuration: .init())
        for i in 0..<20 {
            #expect(refusal(state.send(message(-100_123), now: at(i * 1000), unixMillis: 0)) == nil)
        }
        // The 21st, 20 s in: the first frees at 60 s.
        #expect(refusal(state.send(message(-100_123), now: at(20_000), unixMillis: 0)) == .tooManyRequests(retryAfter: 40))
        #expect(refusal(state.send(message(-100_124), now: at(20_000), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(-100_123), now: at(60_000), unixMillis: 0)) == nil)
        // A private chat gets no minute limit.
        for i in 0..<25 {
            #expect(refusal(state.send(message(55), now: at(100_000 + i * 1000), unixMillis: 0)) == nil)
        }
    }

    @Test func paidLaneGoesPastThirtyAndKeepsTheGlobalLaneFree() {
        var state = FakeTelegramState(configuration: .init(paidPerSecond: 1000))
        for i in 0..<1000 {
            #expect(refusal(state.send(message(Int64(i + 1), paid: true), now: at(i / 2), unixMillis: 0)) == nil)
        }
        #expect(refusal(state.send(message(5000, paid: true), now: at(600), unixMillis: 0)) == .tooManyRequests(retryAfter: 1))
        // The 30 unpaid slots are untouched by the paid burst.
        for i in 0..<30 {
            #expect(refusal(state.send(message(Int64(10_000 + i)), now: at(700), unixMillis: 0)) == nil)
        }
        #expect(refusal(state.send(message(20_000), now: at(700), unixMillis: 0)) != nil)
        #expect(state.stats.paidAccepted == 1000)
        #expect(state.stats.accepted == 1030)
    }

    @Test func paidMessagesStillMeetThePerChatLimit() {
        var state = FakeTelegramState(configuration: .init())
        #expect(refusal(state.send(message(9, paid: true), now: at(0), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(9, paid: true), now: at(10), unixMillis: 0)) == .tooManyRequests(retryAfter: 1))
    }

    @Test func theRetryAfterCoversEveryLimitInTheWay() {
        var state = FakeTelegramState(configuration: .init(globalPerSecond: 1, groupPerMinute: 2))
        #expect(refusal(state.send(message(-1), now: at(0), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(-1), now: at(1000), unixMillis: 0)) == nil)
        // Global frees at 2 s, the chat's second at 2 s, the group's minute at 60 s.
        #expect(refusal(state.send(message(-1), now: at(1500), unixMillis: 0))?.retryAfter == 59)
    }

    @Test func refusedMessagesAreNotRecordedAndDoNotCount() {
        var configuration = FakeTelegramServer.Configuration(globalPerSecond: 2)
        configuration.blocked = [1]
        configuration.unknownChats = [2, 1]
        var state = FakeTelegramState(configuration: configuration)
        #expect(refusal(state.send(message(1), now: at(0), unixMillis: 0)) == .chatNotFound)
        state.configuration.unknownChats = []
        #expect(refusal(state.send(message(1), now: at(0), unixMillis: 0)) == .blocked)
        #expect(refusal(state.send(message(3), now: at(0), unixMillis: 0)) == nil)
        #expect(refusal(state.send(message(3), now: at(1), unixMillis: 0)) != nil)
        #expect(refusal(state.send(message(4), now: at(2), unixMillis: 0)) == nil)
        #expect(state.messages.map(\.chatID) == [3, 4])
        #expect(state.stats.forbidden == 1 && state.stats.badRequest == 1 && state.stats.tooManyRequests == 1)
    }

    @Test func acceptedMessagesKeepWhatWasSent() throws {
        var state = FakeTelegramState(configuration: .init())
        let photo = SendRequest(
            method: .sendPhoto, chatID: -42, text: "<b>c</b>", photo: "https://x/p.png", parseMode: "HTML", paid: true)
        guard case .success(let first) = state.send(photo, now: at(5), unixMillis: 1_700_000_000_123) else {
            Issue.record("refused")
            return
        }
        #expect(first.messageID == 1)
        #expect(first.chatID == -42 && first.method == "sendPhoto" && first.text == "<b>c</b>")
        #expect(first.photo == "https://x/p.png" && first.parseMode == "HTML" && first.paid)
        #expect(first.at == at(5) && first.unixMillis == 1_700_000_000_123)
        guard case .success(let second) = state.send(message(1), now: at(6), unixMillis: 0) else {
            Issue.record("refused")
            return
        }
        #expect(second.messageID == 2)
        #expect(state.messages == [first, second])
    }

    @Test func resetForgetsMessagesCountsAndWindowsButNotIDs() {
        var state = FakeTelegramState(configuration: .init(globalPerSecond: 1))
        _ = state.send(message(1), now: at(0), unixMillis: 0)
        _ = state.send(message(2), now: at(0), unixMillis: 0)
        state.failNext = FailNext(count: 3, status: 500)
        state.reset()
        #expect(state.messages.isEmpty && state.stats == FakeTelegramServer.Stats())
        #expect(state.failNext.count == 0)
        guard case .success(let message) = state.send(message(2), now: at(1), unixMillis: 0) else {
            Issue.record("still limited after reset")
            return
        }
        #expect(message.messageID == 2)
    }

    @Test func injectedFailuresComeFromFailNextThenTheRate() {
        var state = FakeTelegramState(configuration: .init())
        state.failNext = FailNext(count: 2, status: 503)
        #expect(state.takeFailure() == 503)
        #expect(state.takeFailure() == 503)
        #expect(state.takeFailure() == nil)
        state.configuration.failureRate = 1
        for _ in 0..<20 { #expect([500, 502].contains(state.takeFailure())) }
        #expect(state.stats.serverErrors == 22)
    }

    @Test func idleChatsAreSweptSoManyChatsStayCheap() {
        var state = FakeTelegramState(configuration: .init(paidPerSecond: 100_000))
        for i in 0..<10_000 { _ = state.send(message(Int64(i + 1), paid: true), now: at(0), unixMillis: 0) }
        #expect(state.trackedChats >= 10_000)
        // Sweeps come when the count doubles (16,384 here); by then the first 10,000 are idle.
        for i in 0..<7_000 { _ = state.send(message(Int64(20_000 + i), paid: true), now: at(2000), unixMillis: 0) }
        #expect(state.trackedChats == 7_000)
        #expect(state.messages.count == 17_000)
        // A swept chat is a new chat again, free to send.
        #expect(refusal(state.send(message(1, paid: true), now: at(2000), unixMillis: 0)) == nil)
    }

    @Test func keepsOnlyTheNewestMessagesButCountsAll() {
        var state = FakeTelegramState(configuration: .init(paidPerSecond: 100_000, keepMessages: 100))
        for i in 0..<1_000 { _ = state.send(message(Int64(i + 1), paid: true), now: at(0), unixMillis: 0) }
        #expect((100...125).contains(state.messages.count))
        #expect(state.messages.last?.messageID == 1_000)
        #expect(state.stats.accepted == 1_000)
    }

    @Test func slidingWindowRingWrapsAround() {
        var window = SlidingWindow(limit: 3, length: .seconds(1))
        for round in 0..<10 {
            let base = round * 1000
            for i in 0..<3 {
                #expect(window.wait(at: at(base + i)) == nil)
                window.record(at(base + i))
            }
            #expect(window.wait(at: at(base + 3)) == .milliseconds(997))
        }
        #expect(!window.isIdle(at: at(9_002)))
        #expect(window.isIdle(at: at(10_002)))
    }
}
