import Foundation
import Testing

/// A family added through the registry API alone (Tests/LoopbackFamily, registered by the
/// `pnnlab-loopback` build of the real command line) gets every command: emulate on a pty,
/// attach, conformance, train --method gradient, twin export and calibrate.
@Suite("a test-only family through the real command line", .serialized)
struct LoopbackCLITests {
    static var binary: URL {
        CLI.binary.deletingLastPathComponent().appendingPathComponent("pnnlab-loopback")
    }

    @Test func everyCommandWorksForARegisteredFamily() async throws {
        let env = Self.binary
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        let link = dir + "/loop"
        let help = try await CLI.run(["emulate", "--help"], executable: env)
        #expect(help.stdout.contains("loopback") && help.stdout.contains("--lines"))
        let child = try CLI.start(["emulate", "loopback", "--lines", "8", "--link", link, "--seed", "3"], executable: env)
        defer { if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) } }
        let up = try await CLI.waitFor(timeout: 90) {
            FileManager.default.fileExists(atPath: link)
                && ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").contains("\n")
        }
        try #require(up, "emulator did not come up")

        let attach = try await CLI.run(["attach", link, "--json", "--store", store], executable: env)
        #expect(attach.status == 0, "stderr: \(attach.stderr)")
        let attached = try #require(CLI.json(attach.stdout))
        #expect(attached["family"] as? String == "loopback")
        let name = try #require(attached["name"] as? String)

        let conformance = try await CLI.run(["conformance", link], executable: env)
        #expect(conformance.status == 0, "stdout: \(conformance.stdout) stderr: \(conformance.stderr)")

        let train = try await CLI.run(
            ["train", name, "--task", "xor", "--method", "gradient", "--epochs", "2", "--json", "--store", store],
            executable: env)
        #expect(train.status == 0, "stderr: \(train.stderr)")
        let result = try #require(CLI.json(train.stdout))
        #expect(result["status"] as? String == "completed" && result["family"] as? String == "loopback")

        let calibrate = try await CLI.run(["calibrate", name, "--json", "--store", store], executable: env)
        #expect(calibrate.status == 0, "stderr: \(calibrate.stderr)")
        #expect(CLI.json(calibrate.stdout)?["truth"] is [String: Any])

        let state = dir + "/loop.json"
        let export = try await CLI.run(["twin", "export", "sim:loopback", "-o", state], executable: env)
        #expect(export.status == 0, "stderr: \(export.stderr)")

        // The plain pnnlab has no driver for it: one clear line.
        let plain = try await CLI.run(["conformance", link])
        #expect(plain.status != 0 && plain.stderr.contains("no driver for"), "stderr: \(plain.stderr)")
    }
}
