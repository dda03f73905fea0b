import Foundation
import PNNRuns

/// Plain-text tables for human output (every listing also has `--json`).
enum Table {
    /// Two aligned columns: key, value.
    static func keyValue(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    /// A table with a header row; columns are left-aligned and padded.
    static func render(header: [String], rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }
        return ([line(header), line(rule)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Helpers for JSON output through `JSONSerialization`.
enum JSONOut {
    /// A value or JSON null.
    static func nullable<T>(_ x: T?) -> Any { x.map { $0 as Any } ?? NSNull() }

    /// Print a JSON object or array, keys sorted, one line.
    static func print(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        Swift.print(String(decoding: data, as: UTF8.self))
    }

    /// ISO 8601 timestamp.
    static func date(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}

/// Checked output: every write to stdout or a file is checked, so a full disk or a closed
/// pipe is one clear error line, never a report of success.
enum Output {
    /// Writes `text` and a newline to stdout.
    static func print(_ text: String) throws {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
        } catch {
            throw CLIError("could not write to standard output (\(describe(error)))")
        }
    }

    /// One line of result JSON on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        try print(try ResultJSON.string(value))
    }

    /// Writes `text` to `path` through a temporary file renamed into place, so a failed write
    /// leaves no partial file.
    static func writeFile(_ text: String, to path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CLIError("cannot write \(path): it is a directory")
        }
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).part-\(getpid())")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw CLIError("cannot write \(path): the folder does not exist or is not writable")
        }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            defer { try? handle.close() }
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw CLIError("cannot write \(path): \(describe(error))")
        }
        if rename(temp.path, path) != 0 {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw CLIError("cannot write \(path): \(why)")
        }
    }

    /// A Foundation error as a short phrase.
    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if ns.code == NSFileWriteOutOfSpaceError { return "no space left on device" }
        return "write failed"
    }
}
