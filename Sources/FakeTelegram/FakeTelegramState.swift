/// Everything that changes as requests come, kept in one `Mutex` by the server. Each request
/// costs O(1) here, amortized: flood windows are rings, and idle chats are swept out in
/// passes whose cost is paid for by the chats added since the last one.
struct FakeTelegramState: Sendable {
    var configuration: FakeTelegramServer.Configuration
    var failNext = FailNext()
    private(set) var messages: [FakeTelegramServer.Message] = []
    private(set) var stats = FakeTelegramServer.Stats()
    private var nextMessageID: Int64 = 1
    private var global: SlidingWindow
    private var paid: SlidingWindow
    private var chats: [Int64: ChatWindows] = [:]
    private var sweepAt = FakeTelegramState.minimumSweep

    private static let minimumSweep = 4096

    private struct ChatWindows {
        var perSecond: SlidingWindow
        /// Groups only.
        var perMinute: SlidingWindow?

        mutating func wait(at now: ContinuousClock.Instant) -> Duration? {
            let second = perSecond.wait(at: now)
            guard let minute = perMinute?.wait(at: now) else { return second }
            return max(second ?? .zero, minute)
        }

        mutating func record(_ now: ContinuousClock.Instant) {
            perSecond.record(now)
            perMinute?.record(now)
        }

        func isIdle(at now: ContinuousClock.Instant) -> Bool {
            perSecond.isIdle(at: now) && perMinute?.isIdle(at: now) ?? true
        }
    }

    /// Chats with a flood window in memory.
    var trackedChats: Int { chats.count }

    init(configuration: FakeTelegramServer.Configuration) {
        self.configuration = configuration
        global = SlidingWindow(limit: configuration.globalPerSecond, length: .seconds(1))
        paid = SlidingWindow(limit: configuration.paidPerSecond, length: .seconds(1))
    }

    mutating func reset() {
        messages = []
        stats = FakeTelegramServer.Stats()
        failNext = FailNext()
        global = SlidingWindow(limit: configuration.globalPerSecond, length: .seconds(1))
        paid = SlidingWindow(limit: configuration.paidPerSecond, length: .seconds(1))
        chats = [:]
        sweepAt = Self.minimumSweep
    }

    /// Whether this request waits `slowDelay` first; counts it if so.
    mutating func takeSlow() -> Duration? {
        guard configuration.slowRate > 0, Double.random(in: 0..<1) < configuration.slowRate else { return nil }
        stats.slowed += 1
        return configuration.slowDelay
    }

    /// The status of an injected failure for this request, if it gets one; counts it if so.
    mutating func takeFailure() -> Int? {
        var status: Int?
        if failNext.count > 0 {
            failNext.count -= 1
            status = failNext.status
        } else if configuration.failureRate > 0, Double.random(in: 0..<1) < configuration.failureRate {
            // Telegram's own 500 carries its JSON; a 502 comes from the proxy in front, as a page.
            status = Bool.random() ? 500 : 502
        }
        if status != nil { stats.serverErrors += 1 }
        return status
    }

    /// Counts a refusal decided outside the lock.
    mutating func count(_ refusal: BotRefusal) {
        switch refusal.status {
        case 401: stats.unauthorized += 1
        case 403: stats.forbidden += 1
        case 404: stats.notFound += 1
        case 429: stats.tooManyRequests += 1
        case 500...599: stats.serverErrors += 1
        default: stats.badRequest += 1
        }
    }

    /// Refuses or records a message that passed the checks of its content.
    mutating func send(
        _ request: SendRequest, now: ContinuousClock.Instant, unixMillis: Int64
    ) -> Result<FakeTelegramServer.Message, BotRefusal> {
        if let refusal = refusal(for: request, now: now) {
            count(refusal)
            return .failure(refusal)
        }
        // Decided here, under the lock, so the record says what the sender was answered.
        let rate = configuration.gatewayAfterRecordRate
        let lostAnswer = rate > 0 && Double.random(in: 0..<1) < rate
        let message = FakeTelegramServer.Message(
            messageID: nextMessageID, chatID: request.chatID, method: request.method.rawValue, text: request.text,
            photo: request.photo, parseMode: request.parseMode, paid: request.paid, at: now, unixMillis: unixMillis,
            userAgent: request.userAgent, receivedMillis: request.receivedMillis ?? unixMillis,
            answeredStatus: lostAnswer ? 502 : nil)
        nextMessageID += 1
        messages.append(message)
        let keep = max(1, configuration.keepMessages)
        // Trimming in batches of a quarter keeps the cost per message O(1).
        if messages.count > keep + keep / 4 { messages.removeFirst(messages.count - keep) }
        stats.accepted += 1
        if request.paid { stats.paidAccepted += 1 }
        if lostAnswer { stats.gatewayAfterRecord += 1 }
        if request.paid { paid.record(now) } else { global.record(now) }
        let isGroup = request.chatID < 0
        chats[
            request.chatID,
            default: ChatWindows(
                perSecond: SlidingWindow(limit: configuration.perChatPerSecond, length: .seconds(1)),
                perMinute: isGroup ? SlidingWindow(limit: configuration.groupPerMinute, length: .seconds(60)) : nil)
        ]
        .record(now)
        if chats.count >= sweepAt { sweep(now: now) }
        return .success(message)
    }

    private mutating func refusal(for request: SendRequest, now: ContinuousClock.Instant) -> BotRefusal? {
        if configuration.unknownChats.contains(request.chatID) { return .chatNotFound }
        if configuration.blocked.contains(request.chatID) { return .blocked }
        // The answer names the wait until every limit in the way has a free slot, so a sender
        // that honours retry_after is not refused again for another limit.
        var wait = request.paid ? paid.wait(at: now) : global.wait(at: now)
        if let chatWait = chats[request.chatID]?.wait(at: now) {
            wait = max(wait ?? .zero, chatWait)
            stats.tooManyPerChat += 1
        }
        guard let wait else { return nil }
        let seconds = Int((wait / .seconds(1)).rounded(.up))
        return .tooManyRequests(retryAfter: max(1, seconds))
    }

    /// Drops the chats whose windows are empty, then waits for as many new chats as are left
    /// before sweeping again.
    private mutating func sweep(now: ContinuousClock.Instant) {
        chats = chats.filter { !$0.value.isIdle(at: now) }
        sweepAt = max(Self.minimumSweep, 2 * chats.count)
    }
}
