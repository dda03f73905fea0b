import CStartup
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

    /// Print a JSON object or array, keys sorted, one line (a failed write throws).
    static func print(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try Output.print(String(decoding: data, as: UTF8.self))
    }

    /// ISO 8601 timestamp.
    static func date(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}

/// Checked output: every write to stdout or a file is checked, so a full disk or a closed
/// pipe is one clear error line, never a report of success.
enum Output {
    /// Whether stdout was closed when pnnlab started (see ``reserveStandardStreams()``).
    nonisolated(unsafe) private static var standardOutputWasClosed = false
    /// Where stdout stood at start-up when it is a regular file (`> file`), else −1: a failed
    /// write truncates the file back to it, so no partial output is left behind.
    nonisolated(unsafe) private static var standardOutputStart: off_t = -1

    /// Called first thing at start-up: a standard stream that was closed (`>&-`) gets
    /// `/dev/null` opened read-only in its place, so no file pnnlab opens later (the store!)
    /// can become descriptor 1 and receive output, and a write to it fails cleanly.
    static func reserveStandardStreams() {
        // The C constructor (CStartup) already did this before the runtime opened anything;
        // the loop below only matters where that constructor did not run.
        if pnnlab_standard_output_closed_at_start() != 0 { standardOutputWasClosed = true }
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            let null = open("/dev/null", O_RDONLY)
            if null >= 0, null != fd {
                _ = dup2(null, fd)
                _ = close(null)
            }
            if fd == 1 { standardOutputWasClosed = true }
        }
        var info = stat()
        if !standardOutputWasClosed, fstat(1, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
            standardOutputStart = lseek(1, 0, SEEK_CUR)
        }
    }

    /// Writes `text` and a newline to stdout; on failure a redirected file is cut back to
    /// what it held before pnnlab started.
    static func print(_ text: String) throws {
        if let code = writeAll(1, Data((text + "\n").utf8)) {
            if standardOutputStart >= 0 { _ = ftruncate(1, standardOutputStart) }
            let why = standardOutputWasClosed ? "it is closed" : phrase(code)
            throw CLIError("could not write to standard output: \(why)")
        }
    }

    /// One line of result JSON on stdout.
    static func printJSON<T: Encodable>(_ value: T) throws {
        try print(try ResultJSON.string(value))
    }

    /// Writes `text` to `path` through a temporary file renamed into place, so a failed write
    /// leaves no partial file (and an existing file stays as it was). A device or pipe
    /// (`/dev/stdout`, a FIFO) is written in place; a symlink's target is replaced.
    static func writeFile(_ text: String, to path: String) throws { try writeFile(Data(text.utf8), to: path) }

    /// Writes `data` to `path` as `writeFile(_:to:)` writes text.
    static func writeFile(_ data: Data, to path: String) throws {
        guard !path.isEmpty else { throw CLIError("cannot write the output: the file name is empty") }
        var info = stat()
        if stat(path, &info) == 0 {
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR { throw CLIError("cannot write \(path): it is a directory") }
            if kind != S_IFREG {
                let fd = open(path, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw CLIError("could not write \(path): \(phrase(errno))") }
                defer { close(fd) }
                if let code = writeAll(fd, data) { throw CLIError("could not write \(path): \(phrase(code))") }
                return
            }
        }
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let temp = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).part-\(getpid())")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            let code = errno
            let why = code == ENOENT ? "its folder does not exist" : phrase(code)
            throw CLIError("cannot write \(path): \(why)")
        }
        var failure = writeAll(fd, data)
        if failure == nil, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == nil { failure = errno }
        if failure == nil, rename(temp.path, target.path) != 0 { failure = errno }
        if let failure {
            unlink(temp.path)
            throw CLIError("could not write \(path): \(phrase(failure))")
        }
    }

    /// Writes all of `data` to `fd`, retrying short writes; the errno of a failure, or nil.
    private static func writeAll(_ fd: Int32, _ data: Data) -> Int32? {
        data.withUnsafeBytes { buffer -> Int32? in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
    }

    /// `strerror` as a phrase: "no space left on device".
    static func phrase(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// A Foundation error as a short phrase.
    static func describe(_ error: any Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return phrase(Int32(posix.code))
        }
        if ns.domain == NSPOSIXErrorDomain { return phrase(Int32(ns.code)) }
        if ns.code == NSFileWriteOutOfSpaceError { return "no space left on device" }
        return "write failed"
    }
}
