import Foundation
import Testing

/// `pnnlab train --retrain RUN`: recovery after a fault by retraining the later units of a
/// PIB cascade (seed 003 Fig. 2D), on a twin whose ADC columns are broken first.
@Suite("pnnlab train --retrain (PIB recovery after a broken ADC)")
struct RetrainCLITests {
    @Test func breakingUnitOnesADCDropsAccuracyAndRetrainingTheOutputUnitRecoversIt() async throws {
        let dir = try PlotCLITests.folder()
        let store = dir.appendingPathComponent("s.sqlite").path
        let config = dir.appendingPathComponent("small.toml")
        try "[trainer]\nsubset = 400\nepochs = 4\n".write(to: config, atomically: true, encoding: .utf8)
        let base = try await CLI.run([
            "train", "sim:crossbar", "--task", "digits", "--layers", "16,10", "--method", "pib", "--seed", "2", "--config",
            config.path, "--json", "--store", store,
        ])
        #expect(base.status == 0, "\(base.stderr)")
        let clean = try #require(CLI.json(base.stdout)?["test_accuracy"] as? Double)
        // Unit 1 has 16 outputs, 32 ADC columns: break the first 16 (outputs 0…7 read 0).
        let broken = (0..<16).flatMap { ["--break-adc", "1:\($0)"] }
        let retrain = try await CLI.run(
            ["train", "sim:crossbar", "--retrain", "1", "--json", "--store", store] + broken)
        #expect(retrain.status == 0, "\(retrain.stderr)")
        let r = try #require(CLI.json(retrain.stdout))
        #expect(r["status"] as? String == "completed")
        let show = try await CLI.run(["show", "2", "--json", "--store", store])
        let detail = try #require(CLI.json(show.stdout))
        let evaluations = try #require(detail["evaluations"] as? [[String: Any]])
        let tests = evaluations.compactMap { $0["test_accuracy"] as? Double }
        #expect(tests.count == 5, "the damaged cascade measured first, then one evaluation per retrained epoch")
        let damaged = try #require(tests.first)
        #expect(damaged < clean - 0.05, "breaking half of unit 1's columns costs accuracy: \(clean) → \(damaged)")
        #expect((tests.dropFirst().max() ?? 0) > damaged + 0.05, "retraining unit 2 recovers: \(tests)")

        // Refused in one line: not a deep run, unit 1, a unit the run lacks, a column the unit lacks.
        let xor = try await CLI.run(["train", "sim:crossbar", "--task", "xor", "--epochs", "1", "--store", store])
        #expect(xor.status == 0)
        let cases: [([String], String)] = [
            (["--retrain", "3"], "is not a deep run"),
            (["--retrain", "1", "--from-unit", "1"], "--from-unit must be between 2 and 2"),
            (["--retrain", "1", "--break-adc", "3:0"], "has units 1…2"),
            (["--retrain", "1", "--break-adc", "1:99"], "readout channels 0…31"),
            (["--retrain", "1", "--break-adc", "one"], "UNIT:CHANNEL"),
            (["--retrain", "1", "--layers", "8,10"], "recorded settings"),
        ]
        for (args, needle) in cases {
            let bad = try await CLI.run(["train", "sim:crossbar", "--store", store] + args)
            #expect(bad.status != 0, "\(args)")
            #expect(bad.stderr.contains(needle), "\(args): \(bad.stderr)")
            #expect(bad.stderr.split(separator: "\n").count == 1, "\(args): \(bad.stderr)")
        }
    }
}
