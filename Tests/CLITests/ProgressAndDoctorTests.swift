import Foundation
import PNNStore
import Testing

/// The progress display (on a terminal of a given width, and piped) and `pnnlab doctor`,
/// through the real binary.
@Suite("progress display and doctor (real binary)", .serialized)
struct ProgressAndDoctorTests {
    // MARK: progress on a terminal

    /// Width from the kernel (`TIOCGWINSZ`) beating `$COLUMNS`, and `$COLUMNS` when the
    /// terminal reports no width (a new pty reports 0 × 0).
    @Test(arguments: [(UInt16(60), "200"), (UInt16(0), "60")])
    func barNeverExceedsSixtyColumns(kernelColumns: UInt16, columnsVariable: String) async throws {
        let terminal = try PseudoTerminal(columns: kernelColumns)
        let r = try await terminal.run(
            ["train", "sim:crossbar", "--task", "iris", "--epochs", "3", "--json", "--store", CLI.tempStore()],
            environment: ["COLUMNS": columnsVariable])
        #expect(r.status == 0, "terminal output: \(r.terminal)")
        let frames = PseudoTerminal.redrawnLines(r.bytes)
        #expect(frames.count >= 3, "at least one redraw per evaluated epoch; got \(frames)")
        let widest = frames.map(\.count).max() ?? 0
        #expect(widest <= 59, "a redraw wider than 59 columns wraps on a 60-column terminal: \(frames)")
        #expect(widest >= 50, "the bar should use the width it has: \(frames)")
        for f in frames {
            #expect(f.hasPrefix("epoch "), "unit counter first: \(f)")
            #expect(f.contains("ETA "), "ETA kept at 60 columns: \(f)")
        }
        let last = try #require(frames.last)
        let (k, n) = try #require(Self.stepCounter(last), "no step k/N in \(last)")
        #expect(k == n && n > 3, "the last redraw is the last step: \(last)")
        #expect(last.contains("%"), "the last known accuracy is shown, not –: \(last)")
        // After the first evaluation every redraw keeps showing an accuracy.
        if let first = frames.firstIndex(where: { $0.contains("%") }) {
            #expect(frames[first...].allSatisfy { $0.contains("%") }, "\(frames)")
        }
    }

    // MARK: progress when piped

    @Test func pipedContrastiveRunPrintsAtMostOneLinePerTwoPercent() async throws {
        let periods = 100
        let r = try await CLI.run([
            "train", "sim:clln", "--task", "two-task", "--method", "coupled", "--tau", "0.002", "--periods", "\(periods)",
            "--json", "--store", CLI.tempStore(),
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(CLI.json(r.stdout)?["status"] as? String == "completed", "stdout stays one JSON line: \(r.stdout)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(!lines.contains { $0.contains("\r") || $0.contains("\u{1B}") }, "no terminal control when piped")
        let counters = lines.compactMap(Self.stepCounter)
        let total = 2 * periods + 1  // a start record, then two slot ends per period
        #expect(counters.count >= 10, "piped contrastive runs show progress: \(r.stderr)")
        #expect(counters.count <= 52, "at most one line per 2 % (plus start and last): \(counters.count) lines")
        #expect(counters.allSatisfy { $0.1 == total })
        #expect(counters.last?.0 == total, "the last line is the last step")
        #expect(zip(counters, counters.dropFirst()).allSatisfy { $0.0 < $1.0 }, "steps increase")
    }

    @Test func pipedJacobianRunPrintsOneLinePerEpoch() async throws {
        let r = try await CLI.run([
            "train", "sim:crossbar", "--task", "iris", "--epochs", "3", "--json", "--store", CLI.tempStore(),
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = r.stderr.split(separator: "\n").filter { $0.contains(" step ") }
        #expect(lines.map { String($0.prefix(10)) } == ["epoch 1/3 ", "epoch 2/3 ", "epoch 3/3 "], "\(r.stderr)")
        #expect(lines.allSatisfy { $0.contains("train ") && $0.contains("test ") && $0.contains("%") })
        // The digital ceiling of the run, beside the accuracies on every line.
        let ceiling = try #require(CLI.json(r.stdout)?["digital_ceiling"] as? Double, "stdout: \(r.stdout)")
        let text = "ceiling " + String(format: "%.1f%%", 100 * ceiling)
        #expect(lines.allSatisfy { $0.contains(text) }, "\(text) on every line: \(r.stderr)")
    }

    // MARK: doctor

    @Test func doctorJSONNamesTheStoreGivenWithStore() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run(["doctor", "--json", "--store", store])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout), "stdout: \(r.stdout)")
        for key in o.keys { #expect(Self.isSnakeCase(key), "key \(key)") }
        let s = try #require(o["store"] as? [String: Any])
        for key in s.keys { #expect(Self.isSnakeCase(key), "key \(key)") }
        #expect(s["path"] as? String == store)
        #expect(s["source"] as? String == "--store")
        #expect(s["exists"] as? Bool == false)
        #expect(s["writable"] as? Bool == true)
        #expect(s["problem"] is NSNull)
        #expect(FileManager.default.fileExists(atPath: store) == false, "doctor must not create the store")
        let libraries = try #require(o["libraries"] as? [[String: Any]])
        #expect(libraries.contains { $0["name"] as? String == "libusb-1.0" })
        #expect(o["serial_ports"] is [Any])

        _ = try RunStore(path: store)
        let again = try #require(CLI.json(try await CLI.run(["doctor", "--json", "--store", store]).stdout))
        #expect((again["store"] as? [String: Any])?["exists"] as? Bool == true)
    }

    @Test func doctorUsesPNNLABStoreAndRefusesAFolder() async throws {
        let path = CLI.tempStore()
        let r = try await CLI.run(["doctor", "--json"], environment: ["PNNLAB_STORE": path])
        let s = try #require(CLI.json(r.stdout)?["store"] as? [String: Any], "stdout: \(r.stdout)")
        #expect(s["path"] as? String == path)
        #expect(s["source"] as? String == "PNNLAB_STORE")

        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let f = try #require(
            CLI.json(try await CLI.run(["doctor", "--json", "--store", folder]).stdout)?["store"] as? [String: Any])
        #expect(f["writable"] as? Bool == false)
        #expect((f["problem"] as? String)?.contains("folder") == true)
    }

    @Test func doctorTextShowsTheStoreAndNoRawBuildFlags() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run(["doctor", "--store", store])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("run store: \(store)"), "stdout: \(r.stdout)")
        #expect(!r.stdout.contains("NO_LAPACKE"), "a build option is not a problem: \(r.stdout)")
        #expect(r.stdout.contains("LAPACKE"))
    }

    // MARK: helpers

    /// `(k, N)` from the first `step k/N` in `line`.
    static func stepCounter(_ line: String) -> (Int, Int)? {
        guard let range = line.range(of: "step ") else { return nil }
        let rest = line[range.upperBound...].prefix { $0 != " " }
        let parts = rest.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        return (k, n)
    }

    static func isSnakeCase(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }
    }
}

/// A pseudo-terminal of a chosen size whose slave end becomes a child's stderr, so the child
/// draws as it would on a terminal of that width.
final class PseudoTerminal {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Result {
        var status: Int32
        /// Everything the child wrote to its stderr, as the terminal received it.
        var bytes: [UInt8]
        var terminal: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Linux `TIOCSPTLCK` and `TIOCGPTN`; the headers build them with `_IOW`/`_IOR`, which
    /// Swift does not import.
    static let setLock: UInt = 0x4004_5431
    static let getNumber: UInt = 0x8004_5430

    let master: Int32
    private var slave: Int32

    /// `columns` 0 leaves the size unset (0 × 0), as on a fresh pty.
    init(columns: UInt16) throws {
        // posix_openpt/grantpt/unlockpt/ptsname are hidden from Swift's Glibc module (they need
        // _XOPEN_SOURCE), so this does what they do on Linux: open the multiplexer, unlock
        // the new terminal, and open its slave end by number.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw Failure(description: "cannot open /dev/ptmx (errno \(errno))") }
        var unlock: CInt = 0
        var number: CUnsignedInt = 0
        guard ioctl(master, Self.setLock, &unlock) == 0, ioctl(master, Self.getNumber, &number) == 0 else {
            close(master)
            throw Failure(description: "cannot unlock the pseudo-terminal (errno \(errno))")
        }
        slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            close(master)
            throw Failure(description: "cannot open /dev/pts/\(number) (errno \(errno))")
        }
        if columns > 0 {
            var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
            guard ioctl(master, UInt(TIOCSWINSZ), &size) == 0 else { throw Failure(description: "TIOCSWINSZ failed") }
        }
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        if slave >= 0 { close(slave) }
        close(master)
    }

    /// Runs pnnlab with stderr on the terminal (stdout to /dev/null) and collects what it
    /// drew, polling the master end without blocking a thread.
    func run(_ args: [String], environment: [String: String], timeout: Double = 300) async throws -> Result {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PNNLAB_STORE")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        try p.run()
        // Only the child holds the slave end now: when it exits, reads on the master end fail
        // with EIO after the last byte.
        close(slave)
        slave = -1
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        var exitedAt: Date?
        while true {
            let n = read(master, &buffer, buffer.count)
            if n > 0 {
                bytes += buffer[0..<n]
                continue
            }
            guard n < 0 && errno == EAGAIN else { break }  // EIO: the child and its stderr are gone
            if Date() > deadline && p.isRunning { kill(p.processIdentifier, SIGKILL) }
            // Should anything else still hold the slave end, stop a while after the exit.
            if !p.isRunning {
                exitedAt = exitedAt ?? Date()
                if let t = exitedAt, Date().timeIntervalSince(t) > 2 { break }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await waitForExit(p, timeout: 10)
        return Result(status: p.terminationStatus, bytes: bytes)
    }

    /// The text of every redraw: what follows a carriage return up to an erase-line
    /// (`ESC [ K`), on one line.
    static func redrawnLines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 0x1B && bytes[i + 1] == UInt8(ascii: "[") && bytes[i + 2] == UInt8(ascii: "K") {
                var start = i
                while start > 0 && bytes[start - 1] != UInt8(ascii: "\r") && bytes[start - 1] != UInt8(ascii: "\n") {
                    start -= 1
                }
                if start > 0 && bytes[start - 1] == UInt8(ascii: "\r") {
                    lines.append(String(decoding: bytes[start..<i], as: UTF8.self))
                }
                i += 3
            } else {
                i += 1
            }
        }
        return lines
    }
}
