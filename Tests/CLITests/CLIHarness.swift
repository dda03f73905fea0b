import Foundation
import PNNStore

/// Runs the real `pnnlab` binary built next to the test bundle, as a child process.
enum CLI {
    static var binary: URL {
        if let override = ProcessInfo.processInfo.environment["PNNLAB_BIN"] { return URL(fileURLWithPath: override) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pnnlab")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Run to completion (killed after `timeout` seconds). Waits by sleeping the task, never
    /// by blocking a thread: the cooperative pool is as wide as the machine (2 here), and
    /// tests that block it starve every other test in the process.
    static func run(
        _ args: [String], environment: [String: String] = [:], timeout: Double = 300, executable: URL? = nil
    ) async throws -> Result {
        let p = try start(args, environment: environment, executable: executable)
        try await p.wait(timeout: timeout)
        return p.finish()
    }

    /// A started child whose output is collected into files (no pipe can fill and block).
    final class Child {
        let process: Process
        let out: URL
        let err: URL
        init(process: Process, out: URL, err: URL) {
            self.process = process
            self.out = out
            self.err = err
        }
        /// Waits for exit (SIGKILL after `timeout` seconds) without blocking a thread.
        func wait(timeout: Double) async throws {
            try await waitForExit(process, timeout: timeout)
        }

        /// What the child wrote so far, and its exit status (−1 while it still runs).
        func finish() -> Result {
            Result(
                status: process.isRunning ? -1 : process.terminationStatus,
                stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        }
    }

    static func start(_ args: [String], environment: [String: String] = [:], executable: URL? = nil) throws -> Child {
        try launch(executable ?? binary, args, environment: environment)
    }

    /// Starts any executable with stdout/stderr going to temp files and PNNLAB_STORE unset.
    static func launch(_ executable: URL, _ args: [String], environment: [String: String] = [:]) throws -> Child {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PNNLAB_STORE")
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("pnnlab-cli-\(UUID().uuidString).out")
        let err = dir.appendingPathComponent("pnnlab-cli-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return Child(process: p, out: out, err: err)
    }

    /// A fresh store path in a fresh temp directory.
    static func tempStore() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("runs.sqlite").path
    }

    /// Poll `condition` every 50 ms for up to `timeout` seconds (sleeping the task).
    static func waitFor(timeout: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    static func json(_ text: String) -> [String: Any]? {
        guard let line = text.split(separator: "\n").last else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }
}

/// Waits for `process` to exit, SIGKILLing it after `timeout` seconds, by sleeping the task.
func waitForExit(_ process: Process, timeout: Double) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
}
