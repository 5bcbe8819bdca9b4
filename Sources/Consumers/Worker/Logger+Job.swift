import Foundation
import Jobs
import Logging

extension Logger {
    func with(job: JobID, kind: String) -> Logger {
        var copy = self
        copy[metadataKey: "job"] = "\(job)"
        copy[metadataKey: "kind"] = "\(kind)"
        return copy
    }
}
