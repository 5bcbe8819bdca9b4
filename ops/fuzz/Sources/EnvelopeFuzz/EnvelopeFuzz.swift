import Jobs

/// libFuzzer's entry point. The input is read as a stream entry: fields separated by 0x00, name
/// and value by the first 0x01, so the fuzzer can reach every field name and any value bytes.
/// Whatever decodes is then pushed through what a worker does with an envelope next (the
/// arithmetic of retries and snoozes, re-encoding, the dead letter of one that does not decode),
/// so an overflow anywhere on that path is a crash the fuzzer reports.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var fields: [(String, [UInt8])] = []
    for part in bytes.split(separator: 0, omittingEmptySubsequences: false) {
        guard let cut = part.firstIndex(of: 1) else {
            fields.append((String(decoding: part, as: UTF8.self), []))
            continue
        }
        fields.append((String(decoding: part[part.startIndex..<cut], as: UTF8.self), Array(part[(cut + 1)...])))
    }
    let entryMillis: Int64? = bytes.first.map { Int64($0) << 40 }
    do {
        let envelope = try JobEnvelope(fields: fields, entryMillis: entryMillis)
        let fetched = FetchedJob(queue: "fuzz", entryID: "1-0", envelope: envelope, deliveries: 1, consumer: "fuzz")
        let now = JobEnvelope.Limits.maxMillis
        let error = AttemptError(attempt: envelope.attempt, at: now, error: "fuzz")
        for outcome in [JobCompletion.Outcome.retry(at: now, error: error), .snooze(at: now), .dead(reason: .permanent, error: error)] {
            let next = JobCompletion(job: fetched, outcome: outcome).nextEnvelope
            _ = try JobEnvelope(fields: next.fields())
        }
        _ = RetryPolicy.default.backoff(afterAttempt: envelope.attempt)
        _ = now - (envelope.notBefore ?? envelope.enqueuedAt)
        _ = try JobEnvelope(fields: envelope.redriven().fields())
    } catch {
        _ = DeadLetter.rawFields(fields)
    }
    return 0
}

// SwiftPM links an executable with `main` aliased to `EnvelopeFuzz_main`; with -parse-as-library
// there is no Swift main, so this one hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("EnvelopeFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var args = argv
    return runDriver(&count, &args) { data, size in fuzz(data, size) }
}
