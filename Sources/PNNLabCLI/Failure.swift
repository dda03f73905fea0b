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
        let trimmed = oneLine(message)
        Terminal.writeError("pnnlab: \(trimmed)\n")
        Foundation.exit(code == .validationFailure ? 64 : 1)
    }
}

extension Failure {
    /// The message as one line: a list that follows a colon ("one of the following:" then
    /// "- iris" lines) is folded into it; usage text after a blank line is dropped.
    static func oneLine(_ message: String) -> String {
        var parts: [String] = []
        var items: [String] = []
        for raw in message.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("Usage:") || line.hasPrefix("See '") {
                if !parts.isEmpty { break } else { continue }
            }
            if line.hasPrefix("- ") {
                items.append(String(line.dropFirst(2)))
            } else if parts.isEmpty {
                parts.append(line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line)
            } else {
                break
            }
        }
        var out = (parts.first ?? "failed").replacingOccurrences(
            of: "Please provide one of the following", with: "choose one of")
        if !items.isEmpty {
            if out.hasSuffix(":") { out.removeLast() }
            out += " " + items.joined(separator: ", ")
        }
        return out
    }
}

/// A user-facing failure raised by the CLI layer itself (bad file, bad combination).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
