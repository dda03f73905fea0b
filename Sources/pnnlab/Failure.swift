import ArgumentParser
import Foundation

/// Turns errors into the one-line messages the CLI promises, with distinct exit codes.
enum Failure {
    /// Print `error` as one line on stderr (help and version go to stdout) and exit.
    static func exit(with error: any Error) -> Never {
        if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
        let code = PNNLab.exitCode(for: error)
        if code == .success {
            print(PNNLab.fullMessage(for: error))
            Foundation.exit(0)
        }
        // ArgumentParser errors come with usage text; pnnlab's own errors describe themselves.
        let message = PNNLab.message(for: error)
        let firstLine = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "failed"
        let trimmed = firstLine.hasPrefix("Error: ") ? String(firstLine.dropFirst(7)) : firstLine
        Terminal.writeError("pnnlab: \(trimmed)\n")
        Foundation.exit(code == .validationFailure ? 64 : 1)
    }
}

/// A user-facing failure raised by the CLI layer itself (bad file, bad combination).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
