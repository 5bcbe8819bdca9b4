import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Producers
import ThePredKinds

/// A dead letter as the CLI prints it.
struct DeadLetterView: Encodable {
    let id: String
    let queue: String
    let jobID: String?
    let kind: String?
    let reason: String
    let message: String
    let failedAt: String
    let attempt: Int?
    let enqueuedAt: String?
    let redrives: Int?
    let payload: String?
    let errors: [ErrorView]
    let rawFields: [String: String]?

    struct ErrorView: Encodable {
        let attempt: Int
        let at: String
        let error: String
    }

    init(_ d: DeadLetter) {
        id = d.id
        queue = d.queue.rawValue
        jobID = d.jobID
        kind = d.kind
        reason = d.reason.rawValue
        message = d.message
        failedAt = formatTime(d.failedAt)
        attempt = d.envelope?.attempt
        enqueuedAt = d.envelope.map { formatTime($0.enqueuedAt) }
        redrives = d.envelope?.redrives
        payload = d.envelope.map { String(decoding: $0.payload, as: UTF8.self) }
        errors = (d.envelope?.errors ?? []).map { ErrorView(attempt: $0.attempt, at: formatTime($0.at), error: $0.error) }
        rawFields = d.rawFields.isEmpty ? nil : Dictionary(d.rawFields) { a, _ in a }
    }
}
