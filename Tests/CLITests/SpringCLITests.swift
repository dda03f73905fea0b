import Foundation
import Testing

/// `sim:spring` through the real binary: coupled learning on Iris (its test split measured),
/// a Jacobian method, the exported state, and the twin-only family refusing to be emulated.
@Suite("pnnlab train sim:spring")
struct SpringCLITests {
    @Test func coupledLearningOnIrisReportsItsHeldOutSplit() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:spring", "--task", "iris", "--method", "coupled", "--periods", "2", "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = try #require(CLI.json(r.stdout))
        #expect(out["kind"] as? String == "contrastive")
        #expect(out["mode"] as? String == "host-computed")
        #expect(out["family"] as? String == "spring")
        let test = try #require(out["test_accuracy"] as? Double)
        #expect(test >= 0 && test <= 1)
        #expect(out["train_accuracy"] is Double)
    }

    @Test func exportedStateTrainsWithAJacobianMethodAndEmulateRefuses() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spring-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let state = dir + "/s.json"
        let e = try await CLI.run(["twin", "export", "sim:spring", "--task", "iris", "-o", state])
        #expect(e.status == 0, "stderr: \(e.stderr)")
        let data = try #require(FileManager.default.contents(atPath: state))
        let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(doc["format"] as? String == "pnnlab.spring-state")
        let r = try await CLI.run([
            "train", "sim:spring", "--twin-state", state, "--task", "iris", "--method", "gauss-newton", "--epochs", "1",
            "--json", "--store", CLI.tempStore(),
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = try #require(CLI.json(r.stdout))
        #expect(out["digital_ceiling"] is Double)
        #expect(out["test_accuracy"] is Double)
        let emu = try await CLI.run(["emulate", "spring"])
        #expect(emu.status != 0)
        #expect(emu.stderr.contains("twin-only"), "stderr: \(emu.stderr)")
    }
}
