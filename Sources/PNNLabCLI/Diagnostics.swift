import Foundation
import Logging

/// Diagnostics on stderr through swift-log: off unless `--verbose` (anywhere on the command
/// line; it is taken out before parsing) or `PNNLAB_LOG=trace|debug|info|notice|warning|error`.
enum Diagnostics {
    static func bootstrap(arguments: inout [String], environment: [String: String]) {
        var level: Logger.Level = .critical
        if let name = environment["PNNLAB_LOG"], let chosen = Logger.Level(rawValue: name.lowercased()) { level = chosen }
        if let i = arguments.firstIndex(of: "--verbose") {
            arguments.remove(at: i)
            level = .debug
        }
        let chosen = level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}
