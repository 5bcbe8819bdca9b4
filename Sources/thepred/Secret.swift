import ArgumentParser
import Foundation

/// Where a secret comes from, first found first: the command line (`--NAME` or `--NAME-file`, not
/// both), then the environment (`ENV_FILE`, then `ENV`). What is given for this one run overrides
/// what the environment holds for every run, as for every other option. `--NAME` itself shows in
/// `ps` to every user of the machine, so the caller warns about it.
struct Secret {
    let value: String
    /// Given as a command-line argument: the caller logs a warning.
    let fromArgument: Bool

    /// `option` is the flag's name without dashes (`admin-token`), `env` the variable (`ADMIN_TOKEN`).
    /// `environment` is the process's; tests hand their own.
    static func resolve(
        option: String, argument: String?, file: String?, env: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Secret {
        if argument != nil && file != nil {
            throw ValidationError("give --\(option) or --\(option)-file, not both")
        }
        if let argument { return Secret(value: argument, fromArgument: true) }
        if let file { return Secret(value: try read(file, named: "--\(option)-file"), fromArgument: false) }
        if let path = environment["\(env)_FILE"], !path.isEmpty {
            return Secret(value: try read(path, named: "\(env)_FILE"), fromArgument: false)
        }
        return Secret(value: environment[env] ?? "", fromArgument: false)
    }

    /// The file's text without surrounding whitespace; `named` is where its path came from.
    private static func read(_ path: String, named: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(named) \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(named) \(path) is not UTF-8 text")
        }
        // A file written by `echo` ends in a newline that is not part of the secret.
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw ValidationError("\(named) \(path) is empty") }
        return value
    }

    static func warning(option: String, env: String) -> String {
        "--\(option) on the command line can be read by anyone on this machine (ps, /proc); use \(env) or --\(option)-file instead"
    }
}
