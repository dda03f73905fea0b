import Foundation
import PNNStore
import Testing

@Suite("pnnlab train --layers (real binary)", .serialized)
struct DeepCLITests {
    /// A small config: 240 training digits, 2 epochs (a few seconds through two twins).
    func smallConfig() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-deep-\(UUID().uuidString).toml").path
        try "[trainer]\nsubset = 240\nepochs = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func patPrintsTestAccuracyBesideTheDigitalCeiling() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:crossbar", "--task", "digits", "--method", "pat", "--layers", "16,10", "--config",
            try smallConfig(), "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout))
        let acc = try #require(o["test_accuracy"] as? Double)
        let ceiling = try #require(o["digital_ceiling"] as? Double)
        #expect(acc > 0.5 && ceiling > 0.5)
        #expect(o["layers"] as? [Int] == [16, 10])
        #expect((o["unit_measurements"] as? [Int])?.count == 2)
        #expect(o["method"] as? String == "pat")
        #expect(o["epochs"] as? Int == 2)
        let show = try await CLI.run(["show", "1", "--json", "--store", store])
        #expect(show.status == 0)
        #expect((CLI.json(show.stdout)?["evaluations"] as? [[String: Any]])?.count == 2)
    }

    @Test(arguments: [
        (["--layers", "0"], "--layers takes"),
        (["--layers", "-4,10"], "--layers takes"),
        (["--layers", "1000000,10"], "--layers takes"),
        (["--layers", "ten"], "--layers takes"),
        (["--layers", "32,,10"], "--layers takes"),
        (["--layers", "32,7"], "10 classes"),
        (["--layers", "32,10", "--method", "spsa"], "in-silico|pat|dfa"),
        (["--layers", "32,10", "--twin-state", "/dev/null"], "one twin per unit"),
    ])
    func badLayersGiveOneLineAndNonZeroExit(extra: [String], fragment: String) async throws {
        let r = try await CLI.run(["train", "sim:crossbar", "--task", "digits"] + extra + ["--store", CLI.tempStore()])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
    }

    @Test func aBoardTakesOneUnitOnly() async throws {
        let r = try await CLI.run([
            "train", "/dev/ttyNONEXISTENT", "--task", "digits", "--layers", "32,10", "--store", CLI.tempStore(),
        ])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("each unit needs its own device"), "stderr: \(r.stderr)")
    }

    /// 480 training digits (80 test), 3 epochs, with `gain` when given.
    func opticsConfig(gain: Double?) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-optics-\(UUID().uuidString).toml").path
        try "[trainer]\nsubset = 480\nepochs = 3\n\(gain.map { "gain = \($0)\n" } ?? "")".write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An optics cascade end to end (seed 1, deterministic): two `sim:optics` units with every
    /// non-ideality on, PAT through the twins' transmission models, 0.005 logit/DN (32.5 %
    /// test when written, 10 % chance); then an optics unit feeding a crossbar unit (default
    /// gain; 56 % when written).
    @Test func opticsUnitsTrainThroughTheirTransmissionModel() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:optics", "--task", "digits", "--method", "pat", "--layers", "16,10", "--config",
            try opticsConfig(gain: 0.005), "--seed", "1", "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout))
        let acc = try #require(o["test_accuracy"] as? Double)
        let ceiling = try #require(o["digital_ceiling"] as? Double)
        #expect(acc > 0.2 && ceiling > 0.15, "test \(acc), ceiling \(ceiling)")
        #expect(o["layers"] as? [Int] == [16, 10])
        #expect((o["unit_measurements"] as? [Int])?.allSatisfy { $0 > 0 } == true)
        let mixed = try await CLI.run([
            "train", "sim:optics,sim:crossbar", "--task", "digits", "--method", "pat", "--layers", "16,10", "--config",
            try opticsConfig(gain: nil), "--seed", "1", "--json", "--store", store,
        ])
        #expect(mixed.status == 0, "stderr: \(mixed.stderr)")
        let m = try #require(CLI.json(mixed.stdout))
        #expect((m["test_accuracy"] as? Double ?? 0) > 0.35, "stdout: \(mixed.stdout)")
    }

    @Test func backpropagationThroughBinaryOpticsInputsIsRefusedInOneLine() async throws {
        let r = try await CLI.run([
            "train", "sim:optics", "--binary", "--task", "digits", "--layers", "8,10", "--method", "pat", "--store",
            CLI.tempStore(),
        ])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("unit 2's inputs, and its model has no input derivative"), "stderr: \(r.stderr)")
    }

    @Test func aFamilyWithoutAModelIsRefusedInOneLine() async throws {
        let r = try await CLI.run([
            "train", "sim:clln", "--task", "digits", "--layers", "32,10", "--method", "pat", "--store", CLI.tempStore(),
        ])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--method pat needs the clln family's differentiable model"), "stderr: \(r.stderr)")
    }

    /// `--model-profile` over a pty: an emulated board with large column ADC errors is
    /// calibrated, then trained with PAT through its calibration's model; the run reports and
    /// records the profile it used, in `train --json` and in `show`. A missing profile, one
    /// on a run that is not deep, and a count that does not match the units are one line each.
    @Test func patTrainsThroughTheBoardsCalibratedModelOverAPty() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/runs.sqlite"
        let link = dir + "/xbar"
        let child = try CLI.start([
            "emulate", "crossbar", "--link", link, "--seed", "19", "--outputs", "3", "--adc-gain-spread", "0.2",
            "--adc-offset-spread", "0.01",
        ])
        defer { if child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) } }
        let up = try await CLI.waitFor(timeout: 90) {
            FileManager.default.fileExists(atPath: link)
                && ((try? String(contentsOf: child.out, encoding: .utf8)) ?? "").contains("\n")
        }
        try #require(up, "emulator did not come up")
        let cal = try await CLI.run(["calibrate", link, "--json", "--store", store])
        #expect(cal.status == 0, "stderr: \(cal.stderr)")
        let id = try #require(CLI.json(cal.stdout)?["calibration_id"] as? Int)
        let r = try await CLI.run([
            "train", link, "--task", "iris", "--layers", "3", "--method", "pat", "--epochs", "2", "--model-profile", "\(id)",
            "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout), "stdout: \(r.stdout)")
        #expect((o["test_accuracy"] as? Double ?? 0) > 0.34, "better than chance on 3 classes")
        let used = try #require((o["model_profiles"] as? [Any])?.first as? [String: Any])
        #expect(used["serial"] as? String == "EMU-19" && used["source"] as? String == "calibration \(id)")
        #expect(used["procedure"] as? String == "crossbar-devices")
        let run = try #require(o["run"] as? Int)
        let show = try await CLI.run(["show", "\(run)", "--json", "--store", store])
        let settings = try #require(CLI.json(show.stdout)?["settings"] as? [String: Any])
        let recorded = try #require((settings["model_profiles"] as? [Any])?.first as? [String: Any])
        #expect(recorded["source"] as? String == "calibration \(id)")
        #expect((recorded["document"] as? [String: Any])?["serial"] as? String == "EMU-19", "the document itself is kept")
        for (extra, fragment) in [
            (["--layers", "3", "--model-profile", "999"], "no stored calibration has id 999"),
            (["--layers", "3", "--model-profile", "\(id),\(id)"], "one entry per unit"),
            (["--method", "gradient", "--model-profile", "\(id)"], "applies to deep runs"),
        ] {
            let bad = try await CLI.run(["train", link, "--task", "iris", "--epochs", "1", "--store", store] + extra)
            #expect(bad.status != 0)
            #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains(fragment), "\(extra): \(bad.stderr)")
        }
    }

    /// SIGKILL a deep run once two epochs are committed, resume it: committed steps unchanged,
    /// steps continue without gaps, the run completes.
    @Test func aKilledDeepRunResumes() async throws {
        let store = CLI.tempStore()
        let child = try CLI.start([
            "train", "sim:crossbar", "--task", "digits", "--method", "dfa", "--layers", "8,10", "--config",
            try smallConfig(), "--epochs", "100000", "--store", store,
        ])
        let reader = try RunStore(path: store)
        let started = try await CLI.waitFor(timeout: 120) { ((try? reader.steps(runID: 1).count) ?? 0) >= 2 }
        #expect(started, "no steps committed: \(child.finish().stderr)")
        kill(child.process.processIdentifier, SIGKILL)
        try await waitForExit(child.process, timeout: 60)
        let before = try reader.steps(runID: 1)
        #expect(try reader.run(id: 1).status == .interrupted)
        let resumed = try await CLI.run([
            "train", "sim:crossbar", "--resume", "1", "--epochs", "\(before.last!.epoch + 2)", "--json", "--store", store,
        ])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let after = try reader.steps(runID: 1)
        #expect(after.map(\.step) == Array(1...(before.count + 2)))
        for (a, b) in zip(before, after) { #expect(a.parameters == b.parameters, "committed step \(a.step) changed") }
        #expect(try reader.run(id: 1).status == .completed)
        #expect(CLI.json(resumed.stdout)?["layers"] as? [Int] == [8, 10])
    }
}
