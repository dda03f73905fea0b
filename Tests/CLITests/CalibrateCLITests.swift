import Foundation
import PNNStore
import Testing

/// `pnnlab calibrate` on the twin and on an emulated board over a pty: the profile is stored
/// under the serial, and the error against the hidden A0 and B is reported.
@Suite("pnnlab calibrate", .serialized)
struct CalibrateCLITests {
    static func check(_ stdout: String, serial: String, store: String) throws {
        let out = try #require(CLI.json(stdout), "stdout: \(stdout)")
        #expect(out["serial"] as? String == serial)
        // The family's result is embedded as JSON (not a string inside JSON), snake_case.
        let result = try #require(out["result"] as? [String: Any])
        #expect((result["learning_rates"] as? [Double])?.isEmpty == false)
        let truth = try #require(out["truth"] as? [String: Any])
        let a0 = try #require(truth["a0_relative_rms"] as? Double)
        let b = try #require(truth["b_intercept_rms_v_per_s"] as? Double)
        let scale = try #require(truth["b_true_rms_v_per_s"] as? Double)
        #expect(a0 < 0.05, "A0 relative RMS \(a0)")
        #expect(b < 0.1 * scale, "B RMS \(b) of \(scale)")
        #expect(try RunStore(path: store).latestCalibration(serial: serial, family: "clln") != nil)
    }

    @Test func calibratesTheTwin() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run(["calibrate", "sim:clln", "--seed", "5", "--json", "--store", store])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        try Self.check(r.stdout, serial: "sim-5", store: store)
    }

    @Test func calibratesAnEmulatedBoardOverAPty() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        let link = dir + "/clln"
        let child = try CLI.start(["emulate", "clln", "--link", link, "--seed", "7"])
        defer { if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) } }
        let up = try await CLI.waitFor(timeout: 90) {
            FileManager.default.fileExists(atPath: link)
                && ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").contains("\n")
        }
        try #require(up, "emulator did not come up")
        let r = try await CLI.run(["calibrate", link, "--json", "--store", store])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        try Self.check(r.stdout, serial: "EMU-7", store: store)
    }

    @Test func aCrossbarHasNoCalibrationProcedureYet() async throws {
        let r = try await CLI.run(["calibrate", "sim:crossbar", "--store", CLI.tempStore()])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
    }
}
