import Foundation

/// A `pnnlab emulate crossbar --link PATH` child process, for tests that take the user's
/// path: a board on a pseudo-terminal in another process.
final class EmulatorProcess {
    let child: CLI.Child
    let link: String

    /// Starts an emulator and waits until its link exists and its first stdout line (the pty) is out.
    init(link: String, extra: [String] = []) async throws {
        try? FileManager.default.removeItem(atPath: link)
        child = try CLI.start(["emulate", "crossbar", "--link", link] + extra)
        self.link = link
        let up = try await CLI.waitFor(timeout: 90) {
            FileManager.default.fileExists(atPath: link)
                && ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").contains("\n")
        }
        if !up {
            kill(child.process.processIdentifier, SIGKILL)
            try? await waitForExit(child.process, timeout: 10)
            throw EmulatorFailure(text: "emulator did not come up: \(child.finish().stderr)")
        }
    }

    /// The pty path printed on the first line of stdout.
    var ptyPath: String {
        ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init) ?? ""
    }

    /// SIGTERM, then wait; returns the exit status.
    @discardableResult
    func stop() async -> Int32 {
        if child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
        try? await waitForExit(child.process, timeout: 10)
        return child.process.terminationStatus
    }

    /// SIGTERM without waiting (for `defer`).
    func terminate() {
        if child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
    }

    /// SIGKILL: the board vanishes as if unplugged.
    func unplug() async {
        kill(child.process.processIdentifier, SIGKILL)
        try? await waitForExit(child.process, timeout: 10)
    }

    deinit {
        if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) }
    }

    struct EmulatorFailure: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    /// A fresh directory for links and stores.
    static func tempDir() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-hw-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }
}
