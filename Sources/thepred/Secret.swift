import ArgumentParser
import Foundation

/// Where a secret comes from: `--NAME-file` (or `ENV_FILE`), the environment (`ENV`), or the
/// command line, which every user of the machine can read in `ps` and which is therefore warned about.
struct Secret {
    let value: String
    /// Given as a command-line argument: the caller logs a warning.
    let fromArgument: Bool

    /// `option` is the flag's name without dashes (`admin-token`), `env` the variable (`ADMIN_TOKEN`).
    static func resolve(option: String, argument: String?, file: String?, env: String) throws -> Secret {
        let environment = ProcessInfo.processInfo.environment
        let path = file ?? environment["\(env)_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if argument != nil && path != nil {
            throw ValidationError("give --\(option) or --\(option)-file (\(env)_FILE), not both")
        }
        if let argument { return Secret(value: argument, fromArgument: true) }
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read --\(option)-file \(path)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("--\(option)-file \(path) is not UTF-8 text")
            }
            // A file written by `echo` ends in a newline that is not part of the secret.
            let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw ValidationError("--\(option)-file \(path) is empty") }
            return Secret(value: value, fromArgument: false)
        }
        return Secret(value: environment[env] ?? "", fromArgument: false)
    }

    static func warning(option: String, env: String) -> String {
        "--\(option) on the command line can be read by anyone on this machine (ps, /proc); use \(env) or --\(option)-file instead"
    }
}
