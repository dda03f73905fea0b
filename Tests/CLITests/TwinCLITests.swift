import Foundation
import Testing

/// `pnnlab twin export` and `--twin-state` through the real binary, and options that do not
/// apply to the chosen device or method refused with one line.
@Suite("pnnlab twin export / --twin-state")
struct TwinCLITests {
    @Test func exportedCrossbarStateTrainsIris() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("twin-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let state = dir + "/s.json"
        let e = try await CLI.run(["twin", "export", "sim:crossbar", "-o", state])
        #expect(e.status == 0, "stderr: \(e.stderr)")
        let data = try #require(FileManager.default.contents(atPath: state))
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:crossbar", "--twin-state", state, "--task", "iris", "--epochs", "1", "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = try #require(CLI.json(r.stdout))
        #expect(out["status"] as? String == "completed")
        #expect(out["train_accuracy"] is Double)
    }

    @Test(arguments: [
        (["train", "sim:crossbar", "--task", "iris", "--graph", "lattice"], "--graph does not apply to sim:crossbar"),
        (["train", "sim:crossbar", "--task", "iris", "--tau", "0.2"], "--tau applies to the contrastive methods"),
        (["train", "/dev/ttyUSB9", "--task", "iris", "--twin-state", "/nonexistent"], "cannot read /nonexistent"),
        (["emulate", "crossbar", "--graph", "x"], "--graph does not apply to the crossbar emulator"),
        (["emulate", "crossbar", "--rows", "0"], "--rows 0: must be between 1 and 4096"),
        (["emulate", "crossbar", "--service-ms", "nan"], "--service-ms must be"),
        (["twin", "export", "sim:teapot", "-o", "/tmp/x.json"], "no twin called 'sim:teapot'"),
        (["twin", "export", "sim:resistor", "-o", "/tmp/x.json"], "no state file to export"),
        (["calibrate", "sim:crossbar", "--max-pulses", "3"], "--max-pulses 3: must be between 16"),
        (["train", "sim:crossbar", "--task", "iris", "--profile", "/nonexistent.json"], "neither a stored calibration id"),
        (["calibrate", "sim:clln", "--trials", "2"], "--trials 2: must be between 4"),
        (["train", "sim:crossbar", "--task", "iris", "--epochs", "9223372036854775807"], "--epochs must be between"),
        (["train", "sim:crossbar", "--task", "iris", "--epochs", "-3"], "--epochs must be between"),
        (["train", "sim:clln", "--task", "two-task"], "is trained by a contrastive method"),
        (["train", "sim:clln", "--task", "ring", "--method", "overclamp", "--tau", "nan"], "--tau must be a finite number"),
        (["train", "sim:clln", "--task", "ring", "--method", "overclamp", "--tau", "0"], "--tau must be a number of seconds"),
    ])
    func inapplicableOrBadOptionsGiveOneLine(args: [String], fragment: String) async throws {
        let takesStore = args.first == "train" || args.first == "calibrate"
        let r = try await CLI.run(args + (takesStore ? ["--store", CLI.tempStore()] : []))
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
    }
}
