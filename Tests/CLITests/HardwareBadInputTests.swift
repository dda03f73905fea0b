import Foundation
import Testing

/// Every way attaching a board goes wrong gets one line on stderr and a non-zero exit.
@Suite("Hardware path: bad input, one clear line each", .serialized)
struct HardwareBadInputTests {
    func expectOneLine(_ args: [String], contains phrase: String, sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let r = try await CLI.run(args, timeout: 60)
        #expect(r.status != 0, "exit status", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("pnnlab: "), sourceLocation: sourceLocation)
        #expect(r.stderr.contains(phrase), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"), sourceLocation: sourceLocation)
    }

    @Test func portMissing() async throws {
        try await expectOneLine(["attach", "/dev/ttyUSB-not-there", "--store", CLI.tempStore()], contains: "does not exist")
    }

    @Test func permissionDenied() async throws {
        let dir = EmulatorProcess.tempDir()
        let emulator = try await EmulatorProcess(link: dir + "/board")
        defer { emulator.terminate() }
        if getuid() == 0 {
            // As root nothing is denied; drop to nobody the way a user outside dialout is.
            let r = try await runAsNobody([CLI.binary.path, "attach", emulator.ptyPath, "--store", "/tmp/pnnlab-nobody.sqlite"])
            #expect(r.status != 0)
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(r.stderr.contains("permission denied") && r.stderr.contains("dialout"), "\(r.stderr)")
        } else {
            let file = dir + "/locked"
            _ = FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0])
            try await expectOneLine(["attach", file, "--store", CLI.tempStore()], contains: "permission denied")
        }
    }

    @Test func portBusy() async throws {
        let dir = EmulatorProcess.tempDir()
        let emulator = try await EmulatorProcess(link: dir + "/board")
        defer { emulator.terminate() }
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-x", emulator.ptyPath, "sleep", "20"]
        try holder.run()
        defer { holder.terminate() }
        try await Task.sleep(for: .microseconds(300_000))
        try await expectOneLine(["attach", emulator.link, "--store", CLI.tempStore()], contains: "busy")
    }

    @Test func silentPortIsNotAPNNLabBoard() async throws {
        let emulator = try await EmulatorProcess(link: EmulatorProcess.tempDir() + "/board", extra: ["--behave", "silent"])
        defer { emulator.terminate() }
        try await expectOneLine(["attach", emulator.link, "--store", CLI.tempStore()], contains: "not a pnnlab board")
    }

    @Test func garbageIsNotAPNNLabBoard() async throws {
        let emulator = try await EmulatorProcess(link: EmulatorProcess.tempDir() + "/board", extra: ["--behave", "noise"])
        defer { emulator.terminate() }
        try await expectOneLine(["attach", emulator.link, "--store", CLI.tempStore()], contains: "no valid pnnlab frame")
    }

    @Test func protocolVersionMismatch() async throws {
        let emulator = try await EmulatorProcess(link: EmulatorProcess.tempDir() + "/board", extra: ["--protocol-version", "2"])
        defer { emulator.terminate() }
        try await expectOneLine(["attach", emulator.link, "--store", CLI.tempStore()], contains: "device speaks protocol 2")
    }

    @Test func wrongFamily() async throws {
        let emulator = try await EmulatorProcess(link: EmulatorProcess.tempDir() + "/board")
        defer { emulator.terminate() }
        try await expectOneLine(
            ["attach", emulator.link, "--family", "clln", "--store", CLI.tempStore()], contains: "is a crossbar board")
    }

    @Test func baudMismatch() async throws {
        let emulator = try await EmulatorProcess(link: EmulatorProcess.tempDir() + "/board")
        defer { emulator.terminate() }
        try await expectOneLine(["attach", emulator.link, "--baud", "9600", "--store", CLI.tempStore()], contains: "baud")
    }

    @Test func unknownEmulatorFamily() async throws {
        try await expectOneLine(["emulate", "toaster"], contains: "unknown family")
    }

    @Test func badFaultSpec() async throws {
        try await expectOneLine(["emulate", "crossbar", "--faults", "drop=2"], contains: "probability")
    }

    @Test func unregisteredDeviceName() async throws {
        try await expectOneLine(["train", "crossbar-7", "--task", "iris", "--store", CLI.tempStore()], contains: "pnnlab attach")
    }

    func runAsNobody(_ command: [String]) async throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"] + command
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        try await waitForExit(p, timeout: 60)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return CLI.Result(status: p.terminationStatus, stdout: "", stderr: text)
    }
}
