import Foundation
import Testing

/// The user's path for a CLLN board with no hardware: `pnnlab emulate clln` in one process
/// serving a pty, `pnnlab attach` and `pnnlab conformance` in others.
@Suite("CLLN hardware path through a pty, two processes", .serialized)
struct CLLNHardwarePathTests {
    @Test("emulate clln, attach registers clln-1, conformance passes, clean stop")
    func attachAndConformance() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        let link = dir + "/clln"
        let child = try CLI.start(["emulate", "clln", "--link", link, "--seed", "3"])
        defer { if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) } }
        let up = try await CLI.waitFor(timeout: 90) {
            FileManager.default.fileExists(atPath: link)
                && ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").contains("\n")
        }
        try #require(up, "emulator did not come up")

        let attach = try await CLI.run(["attach", link, "--json", "--store", store])
        #expect(attach.status == 0, "\(attach.stderr)")
        let a = try #require(CLI.json(attach.stdout))
        #expect(a["name"] as? String == "clln-1")
        #expect(a["serial"] as? String == "EMU-3")
        #expect(a["emulator"] as? Bool == true)
        #expect(a["inputs"] as? Int == 6)
        let health = try #require(a["health"] as? [String: Any])
        #expect((health["round_trip_ms"] as? Double ?? 0) > 0)
        #expect((health["outputs"] as? [Double])?.count == 1)
        #expect((health["counters"] as? [String: Any])?["violations"] as? Int == 0)

        let conf = try await CLI.run(["conformance", link, "--json"])
        #expect(conf.status == 0, "\(conf.stdout)\(conf.stderr)")
        let c = try #require(CLI.json(conf.stdout))
        #expect(c["passed"] as? Int == c["total"] as? Int)
        #expect((c["total"] as? Int ?? 0) >= 20)

        kill(child.process.processIdentifier, SIGTERM)
        try await waitForExit(child.process, timeout: 10)
        #expect(child.process.terminationStatus == 0)
    }

    @Test("emulate clln --graph with a file that is not a graph fails with a clear message")
    func badGraphFile() async throws {
        let dir = EmulatorProcess.tempDir()
        let graph = dir + "/graph.json"
        try Data("{\"nodes\": 3}".utf8).write(to: URL(fileURLWithPath: graph))
        let r = try await CLI.run(["emulate", "clln", "--graph", graph, "--link", dir + "/x"], timeout: 30)
        #expect(r.status != 0)
        #expect(!r.stderr.isEmpty)
    }
}
