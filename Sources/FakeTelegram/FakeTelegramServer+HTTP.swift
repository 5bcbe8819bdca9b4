import Foundation
import Hummingbird

/// Bodies past this answer 413, as Telegram's front does (its limit is larger; ours only guards memory).
private let maximumBody = 1 << 20

extension FakeTelegramServer {
    func respond(to request: Request) async -> Response {
        let path = request.uri.path
        if path.hasPrefix("/bot") { return await botAPI(request, path: path) }
        if path == "/fake" || path.hasPrefix("/fake/") { return await control(request, path: path) }
        return refusalResponse(.notFound)
    }

    // MARK: Bot API

    private func botAPI(_ request: Request, path: String) async -> Response {
        let received = Int64(Date().timeIntervalSince1970 * 1000)
        if let delay = state.withLock({ $0.takeSlow() }) {
            // Cancelled only when the server stops; then the answer no longer matters.
            try? await Task.sleep(for: delay)
        }
        if let status = state.withLock({ $0.takeFailure() }) { return injectedFailure(status) }
        let send: SendRequest
        let visible: VisibleText
        do {
            switch try await parse(request, path: path) {
            case .getMe: return json(status: .ok, GetMeBody(result: .fake))
            case .send(var parsed):
                parsed.userAgent = request.headers[.userAgent]
                parsed.receivedMillis = received
                send = parsed
            }
            visible = try Self.checkContent(send)
        } catch {
            state.withLock { $0.count(error) }
            return refusalResponse(error)
        }
        let unixMillis = Int64(Date().timeIntervalSince1970 * 1000)
        switch state.withLock({ $0.send(send, now: .now, unixMillis: unixMillis) }) {
        case .success(let message):
            if let status = message.answeredStatus { return injectedFailure(status) }
            return json(status: .ok, SuccessBody(result: ResultMessage(message, visible: visible)))
        case .failure(let refusal):
            return refusalResponse(refusal)
        }
    }

    private enum BotCall {
        case send(SendRequest)
        case getMe
    }

    /// The token, the method and the body.
    private func parse(_ request: Request, path: String) async throws(BotRefusal) -> BotCall {
        // "/bot<token>/<method>"; a token never contains "/".
        let rest = path.dropFirst(4)
        guard let slash = rest.firstIndex(of: "/") else { throw .notFound }
        let token = rest[..<slash]
        guard token == startConfiguration.token || token.removingPercentEncoding == startConfiguration.token else {
            throw .unauthorized
        }
        let method: SendRequest.Method
        switch rest[rest.index(after: slash)...].lowercased() {
        case "sendmessage": method = .sendMessage
        case "sendphoto": method = .sendPhoto
        case "getme": return .getMe
        default: throw .notFound
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maximumBody)
        } catch {
            throw .tooLarge
        }
        return .send(try SendRequest(method: method, json: Data(buffer: body)))
    }

    /// The refusals that depend on the request alone, in the order the Bot API server checks them.
    static func checkContent(_ request: SendRequest) throws(BotRefusal) -> VisibleText {
        if request.method == .sendPhoto && (request.photo ?? "").isEmpty {
            throw .badRequest("there is no photo in the request")
        }
        let visible: VisibleText
        do {
            visible = try Markup.parse(request.text, parseMode: request.parseMode)
        } catch {
            throw .badRequest("can't parse entities: \(error.description)")
        }
        switch request.method {
        case .sendMessage:
            if visible.isBlank { throw .badRequest("message text is empty") }
            if visible.utf16Length > 4096 { throw .badRequest("message is too long") }
        case .sendPhoto:
            if visible.utf16Length > 1024 { throw .badRequest("message caption is too long") }
        }
        return visible
    }

    private func injectedFailure(_ status: Int) -> Response {
        let code = httpStatus(status)
        if status == 502 || status == 504 {
            // What nginx in front of Telegram sends when the backend is away.
            let page = """
                <html>\r
                <head><title>\(status) \(code.reasonPhrase)</title></head>\r
                <body>\r
                <center><h1>\(status) \(code.reasonPhrase)</h1></center>\r
                <hr><center>nginx</center>\r
                </body>\r
                </html>\r

                """
            return Response(
                status: code, headers: [.contentType: "text/html"],
                body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        return refusalResponse(BotRefusal(status: status, description: code.reasonPhrase))
    }

    private func refusalResponse(_ refusal: BotRefusal) -> Response {
        json(
            status: httpStatus(refusal.status),
            ErrorBody(
                errorCode: refusal.status, description: refusal.description,
                parameters: refusal.retryAfter.map { ErrorBody.Parameters(retryAfter: $0) }))
    }

    // MARK: Control endpoints

    private func control(_ request: Request, path: String) async -> Response {
        switch (request.method, path) {
        case (.get, "/fake/messages"):
            let query = request.uri.queryParameters
            let chatID = query["chat_id"].flatMap { Int64(String($0)) }
            let sinceID = query["since_id"].flatMap { Int64(String($0)) } ?? 0
            let selected = state.withLock { state in
                // Ids increase, so the ones after `sinceID` are a suffix.
                let all = state.messages
                let first = all.partitioningIndex { $0.messageID > sinceID }
                return all[first...].filter { chatID == nil || $0.chatID == chatID }
            }
            return json(status: .ok, selected.map(MessageBody.init))
        case (.get, "/fake/stats"):
            return json(status: .ok, stats())
        case (.post, "/fake/reset"):
            reset()
            return json(status: .ok, ControlAnswer(ok: true))
        case (.get, "/fake/config"):
            return json(status: .ok, configBody())
        case (.post, "/fake/config"):
            var request = request
            do {
                let body = try await request.collectBody(upTo: maximumBody)
                let patch = try ConfigPatch(json: Data(buffer: body))
                state.withLock { patch.apply(to: &$0) }
            } catch {
                return json(status: .badRequest, ControlAnswer(ok: false, description: "\(error)"))
            }
            return json(status: .ok, configBody())
        case (_, "/fake/messages"), (_, "/fake/stats"), (_, "/fake/reset"), (_, "/fake/config"):
            return json(status: .methodNotAllowed, ControlAnswer(ok: false, description: "Method Not Allowed"))
        default:
            return refusalResponse(.notFound)
        }
    }

    private func configBody() -> ConfigBody {
        let (configuration, failNext) = state.withLock { ($0.configuration, $0.failNext) }
        let port = listeningPort() ?? configuration.port
        return ConfigBody(configuration, port: port, failNext: failNext)
    }

    // MARK: JSON

    private func json(status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        // Encoding these plain structs cannot fail.
        let data = (try? JSONEncoder.snakeCase.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension SendRequest {
    /// Reads a Bot API JSON body. Like Telegram, `chat_id` may be a number or a string of digits,
    /// and an empty body is an empty object.
    init(method: Method, json: Data) throws(BotRefusal) {
        let body: SendBody
        do {
            body = json.isEmpty ? SendBody() : try JSONDecoder.snakeCase.decode(SendBody.self, from: json)
        } catch {
            throw .badRequest("can't parse JSON request body")
        }
        guard let chatID = body.chatId else { throw .badRequest("chat_id is empty") }
        guard let id = chatID.id else { throw .chatNotFound }
        let text: String
        switch method {
        case .sendMessage:
            guard let sent = body.text else { throw .badRequest("message text is empty") }
            text = sent
        case .sendPhoto:
            text = body.caption ?? ""
        }
        self.init(
            method: method, chatID: id, text: text, photo: body.photo, parseMode: body.parseMode,
            paid: body.allowPaidBroadcast ?? false)
    }
}

/// The statuses the fake answers, with their reason phrases.
private func httpStatus(_ code: Int) -> HTTPResponse.Status {
    switch code {
    case 200: .ok
    case 400: .badRequest
    case 401: .unauthorized
    case 403: .forbidden
    case 404: .notFound
    case 405: .methodNotAllowed
    case 413: .contentTooLarge
    case 429: .tooManyRequests
    case 500: .internalServerError
    case 502: .badGateway
    case 503: .serviceUnavailable
    case 504: .gatewayTimeout
    default: HTTPResponse.Status(code: code, reasonPhrase: "Error")
    }
}

extension JSONDecoder {
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

extension JSONEncoder {
    static var snakeCase: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Stable output for diffs and greps; key order means nothing to JSON readers.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, which must be false then true
    /// along the array.
    fileprivate func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
