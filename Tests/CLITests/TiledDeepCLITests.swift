import Foundation
import PNNStore
import Testing

/// `pnnlab train --layers … --tile-outputs N / --tile-rows N`: a unit split over several arrays.
@Suite("pnnlab train --tile-outputs (real binary)", .serialized)
struct TiledDeepCLITests {
    func smallConfig(_ extra: String = "") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-tiled-\(UUID().uuidString).toml").path
        try "[trainer]\nsubset = 240\nepochs = 2\n\(extra)".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aTiledTwinCascadeTrainsAndRecords() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:crossbar", "--task", "digits", "--layers", "32,10", "--method", "pat", "--tile-outputs", "16",
            "--config", try smallConfig(), "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout))
        #expect(o["status"] as? String == "completed")
        #expect((o["test_accuracy"] as? Double ?? 0) > 0.5, "ten classes: chance is 10 %")
        #expect(o["digital_ceiling"] as? Double != nil)
        #expect((o["unit_measurements"] as? [Int])?.count == 2, "the trainer sees two units")
        // The plan records the tiling and one twin per array, so the run resumes on the same arrays.
        let record = try RunStore(path: store).run(id: 1)
        #expect(record.configJSON.contains("\"tiling\":{\"max_outputs\":16}"), "\(record.configJSON)")
        let twins = try #require(
            (try JSONSerialization.jsonObject(with: Data(record.configJSON.utf8)) as? [String: Any])?["units"] as? [Any])
        #expect(twins.count == 3, "two twins for unit 1, one for unit 2")
        // The same tiling from a config file's [tiling] table.
        let fromFile = try await CLI.run([
            "train", "sim:crossbar", "--task", "digits", "--layers", "32,10", "--config",
            try smallConfig("[tiling]\nmax_rows = 40\n"), "--epochs", "1", "--json", "--store", store,
        ])
        #expect(fromFile.status == 0, "stderr: \(fromFile.stderr)")
        #expect(try RunStore(path: store).run(id: 2).configJSON.contains("\"tiling\":{\"max_rows\":40}"))
    }

    @Test(arguments: [
        (["sim:crossbar", "--layers", "32,10", "--tile-outputs", "0"], "--tile-outputs is the most an array carries"),
        (["sim:crossbar", "--tile-rows", "8"], "add --layers"),
        (["/dev/ttyNONEXISTENT", "--layers", "32,10", "--tile-outputs", "16"], "each unit and each tile needs its own device"),
        (["sim:crossbar,sim:crossbar", "--layers", "32,10", "--tile-outputs", "16"], "the cascade needs 3 arrays"),
    ])
    func badTilingGivesOneLine(extra: [String], fragment: String) async throws {
        let r = try await CLI.run(["train"] + extra + ["--task", "digits", "--store", CLI.tempStore()])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
    }

    /// `--model-profile` gives one calibrated model per unit; a tiled unit's arrays are several
    /// devices, so an entry other than 'ideal' for it is refused with one line before training.
    @Test func aCalibratedModelForATiledUnitIsRefused() async throws {
        let store = CLI.tempStore()
        let cal = try await CLI.run(["calibrate", "sim:crossbar", "--seed", "5", "--json", "--store", store])
        #expect(cal.status == 0, "stderr: \(cal.stderr)")
        let id = try #require(CLI.json(cal.stdout)?["calibration_id"] as? Int)
        let r = try await CLI.run([
            "train", "sim:crossbar", "--task", "digits", "--layers", "32,10", "--method", "pat", "--tile-outputs", "16",
            "--model-profile", "\(id),ideal", "--config", try smallConfig(), "--store", store,
        ])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("unit 1 is tiled over 2 arrays"), "stderr: \(r.stderr)")
        #expect(try RunStore(path: store).runs().isEmpty, "nothing was trained or recorded")
    }

    /// The hidden unit (65 lines × 20 outputs) on two emulated boards of 65 × 10 over
    /// pseudo-terminals, the output unit (21 × 10, within the limit) on a twin.
    @Test func theHiddenUnitTiledOverTwoEmulatedBoards() async throws {
        let dir = EmulatorProcess.tempDir()
        let a = try await EmulatorProcess(link: dir + "/a", extra: ["--seed", "3", "--rows", "65", "--outputs", "10"])
        defer { a.terminate() }
        let b = try await EmulatorProcess(link: dir + "/b", extra: ["--seed", "4", "--rows", "65", "--outputs", "10"])
        defer { b.terminate() }
        let store = dir + "/runs.sqlite"
        let devices = "\(a.link),\(b.link),sim:crossbar"
        let r = try await CLI.run([
            "train", devices, "--task", "digits", "--layers", "20,10", "--method", "pat", "--tile-outputs", "10",
            "--config", try smallConfig(), "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout))
        #expect(o["status"] as? String == "completed")
        #expect((o["test_accuracy"] as? Double ?? 0) > 0.4, "ten classes: chance is 10 %")
        let perUnit = o["unit_measurements"] as? [Int] ?? []
        #expect(perUnit.count == 2 && perUnit.allSatisfy { $0 > 0 }, "\(perUnit)")
        // A board of the wrong size for its tile is refused before training, naming both sizes.
        let wrong = try await CLI.run([
            "train", devices, "--task", "digits", "--layers", "24,10", "--method", "pat", "--tile-outputs", "12",
            "--config", try smallConfig(), "--store", store,
        ])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.split(separator: "\n").count == 1, "stderr: \(wrong.stderr)")
        #expect(wrong.stderr.contains("tile 1 of unit 1 needs 65 input lines and 12 outputs"), "stderr: \(wrong.stderr)")
        #expect(await a.stop() == 0)
        #expect(await b.stop() == 0)
    }
}
