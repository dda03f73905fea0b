import Foundation
import Testing

/// Lossy lines degrade gracefully (issue 10, point 3): the same ideal crossbar behind a
/// clean pty and behind `--faults drop=3e-4,flip=3e-4` trains to the same committed steps,
/// and the noisy line costs at most 10× the clean wall time plus 20 s.
@Suite("Training over a lossy line", .serialized)
struct LossyLineCLITests {
    struct Run {
        var result: [String: Any]
        var evaluations: [[String: Any]]
        var wall: Double
    }

    static func train(_ link: String, store: String) async throws -> Run {
        let start = Date()
        let train = try await CLI.run(
            [
                "train", link, "--task", "xor", "--method", "gauss-newton", "--epochs", "2", "--seed", "4", "--json", "--store",
                store,
            ],
            timeout: 600)
        let wall = Date().timeIntervalSince(start)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(!train.stderr.contains("malformed reply"), "\(train.stderr)")
        let result = try #require(CLI.json(train.stdout), "\(train.stdout)\(train.stderr)")
        let run = try #require(result["run"] as? Int)
        let show = try await CLI.run(["show", "\(run)", "--json", "--store", store])
        let shown = try #require(CLI.json(show.stdout))
        return Run(result: result, evaluations: shown["evaluations"] as? [[String: Any]] ?? [], wall: wall)
    }

    @Test("an ideal crossbar behind drop=3e-4,flip=3e-4 commits the clean line's steps within 10× its time + 20 s")
    func lossyMatchesClean() async throws {
        let dir = EmulatorProcess.tempDir()
        let clean = try await EmulatorProcess(link: dir + "/clean", extra: ["--ideal"])
        let lossy = try await EmulatorProcess(link: dir + "/lossy", extra: ["--ideal", "--faults", "drop=3e-4,flip=3e-4"])
        defer {
            clean.terminate()
            lossy.terminate()
        }
        let a = try await Self.train(clean.link, store: dir + "/clean.sqlite")
        let b = try await Self.train(lossy.link, store: dir + "/lossy.sqlite")
        #expect(a.result["status"] as? String == "completed")
        #expect(b.result["status"] as? String == "completed")
        #expect(a.result["steps"] as? Int == 10)
        #expect(a.result["steps"] as? Int == b.result["steps"] as? Int)
        let fa = try #require(a.result["final_loss"] as? Double)
        let fb = try #require(b.result["final_loss"] as? Double)
        #expect(abs(fa - fb) <= 1e-9, "final loss \(fa) clean vs \(fb) lossy")
        #expect(a.evaluations.count == b.evaluations.count && !a.evaluations.isEmpty)
        for (x, y) in zip(a.evaluations, b.evaluations) {
            #expect(x["step"] as? Int == y["step"] as? Int)
            let lx = x["eval_loss"] as? Double ?? .nan, ly = y["eval_loss"] as? Double ?? .nan
            #expect(abs(lx - ly) <= 1e-9, "step \(x["step"] ?? "?"): \(lx) vs \(ly)")
        }
        #expect(b.wall <= 10 * a.wall + 20, "lossy \(b.wall) s vs clean \(a.wall) s")
        print("lossy-line figures: clean \(a.wall) s, drop=3e-4,flip=3e-4 \(b.wall) s")
    }

    @Test("flip=1e-4 on emulator seeds 1–3: training completes, never a malformed reply", arguments: [1, 2, 3])
    func flipsOnRealisticTwins(seed: Int) async throws {
        let dir = EmulatorProcess.tempDir()
        let board = try await EmulatorProcess(link: dir + "/board", extra: ["--seed", "\(seed)", "--faults", "flip=1e-4"])
        defer { board.terminate() }
        let run = try await Self.train(board.link, store: dir + "/runs.sqlite")
        #expect(run.result["status"] as? String == "completed")
        #expect(run.result["steps"] as? Int == 10)
    }
}
