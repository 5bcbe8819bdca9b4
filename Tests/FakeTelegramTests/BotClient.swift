import FakeTelegram
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the fake answered, read the way the project's `TelegramAnswer.decode` reads it.
struct Answer: Sendable {
    var status: Int
    var ok: Bool?
    var errorCode: Int?
    var description: String?
    var retryAfter: Int?
    var messageID: Int64?
    var resultText: String?
    var contentType: String?
    var body: String
}

/// A plain HTTP client for the fake, over a real port.
struct BotClient: Sendable {
    let base: String
    var token = "test-token"

    init(port: Int) { base = "http://127.0.0.1:\(port)" }

    /// The body `TelegramOutgoing.jsonBody()` sends.
    func send(
        chat: Int64, _ text: String, parseMode: String? = "HTML", photo: String? = nil, paid: Bool = false
    ) async throws -> Answer {
        var body: [String: Any] = ["chat_id": chat]
        if let parseMode { body["parse_mode"] = parseMode }
        if let photo {
            body["photo"] = photo
            body["caption"] = text
        } else {
            body["text"] = text
        }
        if paid { body["allow_paid_broadcast"] = true }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return try await post(photo == nil ? "sendMessage" : "sendPhoto", body: data)
    }

    func post(_ method: String, body: Data) async throws -> Answer {
        try await request("POST", "/bot\(token)/\(method)", body: body)
    }

    func request(_ verb: String, _ path: String, body: Data? = nil) async throws -> Answer {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = verb
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var answer = Answer(
            status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type"),
            body: String(decoding: data, as: UTF8.self))
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            answer.ok = object["ok"] as? Bool
            answer.errorCode = (object["error_code"] as? NSNumber)?.intValue
            answer.description = object["description"] as? String
            answer.retryAfter = ((object["parameters"] as? [String: Any])?["retry_after"] as? NSNumber)?.intValue
            let result = object["result"] as? [String: Any]
            answer.messageID = (result?["message_id"] as? NSNumber)?.int64Value
            answer.resultText = (result?["text"] ?? result?["caption"]) as? String
        }
        return answer
    }

    /// A control endpoint's JSON.
    func control(_ verb: String, _ path: String, json: String? = nil) async throws -> (Int, Any) {
        let answer = try await request(verb, path, body: json.map { Data($0.utf8) })
        return (answer.status, try JSONSerialization.jsonObject(with: Data(answer.body.utf8)))
    }
}

extension Answer {
    /// A refusal with this status and description.
    func isRefusal(_ status: Int, _ description: String) -> Bool {
        self.status == status && ok == false && errorCode == status && self.description == description
    }
}
