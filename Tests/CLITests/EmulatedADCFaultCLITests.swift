import Foundation
import Testing

/// Seed 003 Fig. 2D on an emulated board: unit 1 of a PIB cascade is `pnnlab emulate
/// crossbar` on a real pty in another process; SIGUSR1 breaks half of its ADC columns
/// mid-run (`--break-adc-on-signal`), and `--retrain` retrains unit 2 (a twin) on what the
/// damaged board now measures.
@Suite("ADC fault on an emulated board, recovery by retraining")
struct EmulatedADCFaultCLITests {
    @Test func sigusr1BreaksTheBoardsColumnsAndRetrainingTheNextUnitRecovers() async throws {
        let dir = EmulatorProcess.tempDir()
        let store = dir + "/s.sqlite"
        let config = dir + "/small.toml"
        try "[trainer]\nsubset = 400\nepochs = 4\n".write(toFile: config, atomically: true, encoding: .utf8)
        // Unit 1: 64 digit features + bias on 65 rows, 16 outputs = 32 ADC columns; the
        // first 16 break on SIGUSR1 (outputs 0…7 then read 0 on one side).
        let emulator = try await EmulatorProcess(
            link: dir + "/board",
            extra: ["--seed", "5", "--rows", "65", "--outputs", "16", "--break-adc-on-signal", "0-15"])
        defer { emulator.terminate() }
        let device = emulator.link + ",sim:crossbar"
        let base = try await CLI.run([
            "train", device, "--task", "digits", "--layers", "16,10", "--method", "pib", "--seed", "2", "--config", config,
            "--json", "--store", store,
        ])
        #expect(base.status == 0, "\(base.stderr)")
        let clean = try #require(CLI.json(base.stdout)?["test_accuracy"] as? Double)

        // The host cannot break a board: --break-adc names twins only.
        let refused = try await CLI.run(["train", device, "--retrain", "1", "--break-adc", "1:0", "--store", store])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cannot be broken on demand"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")

        kill(emulator.child.process.processIdentifier, SIGUSR1)
        let said = "SIGUSR1: the crossbar board: broke ADC columns 0…15 of 32"
        let broke = try await CLI.waitFor(timeout: 30) {
            ((try? String(contentsOf: emulator.child.err, encoding: .utf8)) ?? "").contains(said)
        }
        #expect(broke, "\(emulator.child.finish().stderr)")
        #expect(emulator.child.process.isRunning, "the board keeps serving after the fault")

        let retrain = try await CLI.run(["train", device, "--retrain", "1", "--json", "--store", store])
        #expect(retrain.status == 0, "\(retrain.stderr)")
        let r = try #require(CLI.json(retrain.stdout))
        #expect(r["status"] as? String == "completed")
        let run = try #require(r["run"] as? Int)
        let show = try await CLI.run(["show", "\(run)", "--json", "--store", store])
        let detail = try #require(CLI.json(show.stdout))
        let evaluations = try #require(detail["evaluations"] as? [[String: Any]])
        let tests = evaluations.compactMap { $0["test_accuracy"] as? Double }
        #expect(tests.count == 5, "the damaged cascade measured first, then one evaluation per retrained epoch")
        let damaged = try #require(tests.first)
        #expect(damaged < clean - 0.05, "breaking half of the board's columns costs accuracy: \(clean) → \(damaged)")
        #expect((tests.dropFirst().max() ?? 0) > damaged + 0.05, "retraining unit 2 recovers: \(tests)")

        // A second SIGUSR1 has nothing left to inject, and the board still serves.
        kill(emulator.child.process.processIdentifier, SIGUSR1)
        let nothing = try await CLI.waitFor(timeout: 30) {
            ((try? String(contentsOf: emulator.child.err, encoding: .utf8)) ?? "").contains("SIGUSR1: no fault armed")
        }
        #expect(nothing)
        #expect(await emulator.stop() == 0)
    }

    @Test func columnsTheBoardLacksAreRefusedInOneLine() async throws {
        let r = try await CLI.run(["emulate", "crossbar", "--outputs", "4", "--break-adc-on-signal", "8"], timeout: 60)
        #expect(r.status != 0)
        #expect(r.stderr.contains("the board has 8 ADC columns, numbered 0…7"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
