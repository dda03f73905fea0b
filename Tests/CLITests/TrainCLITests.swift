import Foundation
import PNNStore
import Testing

@Suite("pnnlab train, runs, show, export (real binary)", .serialized)
struct TrainCLITests {
    @Test func trainPrintsJSONWithTheDocumentedKeys() async throws {
        let store = CLI.tempStore()
        let r = try await CLI.run([
            "train", "sim:crossbar", "--task", "iris", "--method", "gauss-newton", "--epochs", "3", "--json", "--store", store,
        ])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout))
        for key in [
            "run", "device", "task", "method", "train_accuracy", "test_accuracy", "final_loss", "measurements", "wall_seconds",
        ] {
            #expect(o[key] != nil, "missing \(key)")
        }
        #expect(o["device"] as? String == "sim:crossbar")
        #expect((o["test_accuracy"] as? Double ?? 0) > 0.6)
        #expect((o["measurements"] as? Int ?? 0) > 0)

        let runs = try await CLI.run(["runs", "--json", "--store", store])
        #expect(runs.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["status"] as? String == "completed")

        let show = try await CLI.run(["show", "1", "--json", "--store", store])
        #expect(show.status == 0)
        let detail = try #require(CLI.json(show.stdout))
        #expect((detail["steps"] as? Int ?? 0) > 0)
        #expect((detail["evaluations"] as? [[String: Any]])?.count == 3, "one row per evaluated epoch")

        let csv = try await CLI.run(["export", "1", "--format", "csv", "--store", store])
        #expect(csv.status == 0)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first?.contains("theta_0") == true)
        #expect(lines.count == (detail["steps"] as? Int ?? -1) + 1)
    }

    @Test(arguments: [
        (["train", "sim:crossbar", "--task", "mnist"], "unknown task"),
        (["train", "sim:crossbar", "--task", "iris", "--method", "backprop"], "unknown method"),
        (["train", "sim:teapot", "--task", "iris"], "no twin called 'sim:teapot'"),
        (["train", "sim:crossbar", "--task", "iris", "--config", "/nonexistent/run.toml"], "cannot read"),
        (["train", "sim:crossbar", "--task", "iris", "--epochs", "0"], "--epochs"),
        (["show", "99"], "run 99"),
        (["train", "sim:crossbar", "--task", "iris", "--bogus"], "--bogus"),
        (["train", "sim:crossbar", "--task", "iris", "--jacobian-refresh", "0"], "--jacobian-refresh"),
        (["train", "sim:crossbar", "--resume", "1", "--jacobian-refresh", "5"], "--resume"),
        (
            ["train", "sim:clln", "--task", "ring", "--method", "overclamp", "--jacobian-refresh", "5"],
            "gradient and gauss-newton"
        ),
    ])
    func badInputGivesOneLineAndNonZeroExit(args: [String], fragment: String) async throws {
        let r = try await CLI.run(args + ["--store", CLI.tempStore()])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr was: \(r.stderr)")
        #expect(r.stderr.hasPrefix("pnnlab: "))
        #expect(r.stderr.contains(fragment), "stderr was: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func jacobianRefreshIsRecordedAndCutsTheMeasurements() async throws {
        let store = CLI.tempStore()
        let args = ["train", "sim:crossbar", "--task", "iris", "--epochs", "4", "--json", "--store", store]
        let reused = try await CLI.run(args + ["--jacobian-refresh", "4"])
        #expect(reused.status == 0, "stderr: \(reused.stderr)")
        let r = try #require(CLI.json(reused.stdout))
        #expect(r["steps"] as? Int == 4, "one full-batch step per epoch")
        let show = try await CLI.run(["show", "\(r["run"] as? Int ?? 0)", "--json", "--store", store])
        let settings = try #require(CLI.json(show.stdout)?["settings"] as? [String: Any])
        #expect((settings["trainer"] as? [String: Any])?["jacobian_refresh"] as? Int == 4)
        let plain = try await CLI.run(args + ["--config", try fullBatchConfig()])
        let p = try #require(CLI.json(plain.stdout), "stderr: \(plain.stderr)")
        // The same four full-batch steps: one finite-difference Jacobian instead of four.
        #expect(try #require(r["measurements"] as? Int) * 2 < (p["measurements"] as? Int ?? 0), "\(r) vs \(p)")
    }

    func fullBatchConfig() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-fb-\(UUID().uuidString).toml").path
        try "[trainer]\nbatch_size = 105\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func badConfigFileNamesTheLine() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("run.toml").path
        try "[trainer]\nbatch_size = 8\nlearning_rate = = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try await CLI.run(["train", "sim:crossbar", "--task", "iris", "--config", path, "--store", CLI.tempStore()])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "stderr was: \(r.stderr)")
        #expect(r.stderr.contains("run.toml:3"), "stderr was: \(r.stderr)")

        try "[trainer]\nbatch_sise = 8\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r2 = try await CLI.run(["train", "sim:crossbar", "--task", "iris", "--config", path, "--store", CLI.tempStore()])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("batch_sise"), "stderr was: \(r2.stderr)")
    }
}
