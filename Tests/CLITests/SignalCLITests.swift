import Foundation
import PNNStore
import Testing

/// Issue 10 point 4 with the real binary: SIGTERM pauses, a second SIGINT aborts (status
/// `aborted`, still resumable), SIGKILL leaves a run that reads `interrupted`, and `--resume`
/// refuses a run another live process is training. Every wait polls the store or the
/// child's output; none sleeps a fixed time.
@Suite("Signals, run states and resume with real child processes", .serialized)
struct SignalCLITests {
    static let crossbar = ["train", "sim:crossbar", "--task", "iris", "--method", "spsa", "--epochs", "100000", "--seed", "3"]
    static let clln = ["train", "sim:clln", "--task", "two-task", "--method", "coupled", "--periods", "400"]

    /// Starts `args` and waits until run 1 has at least `steps` committed steps.
    static func startAndWaitForSteps(_ args: [String], store: String, steps: Int) async throws -> (CLI.Child, RunStore) {
        let child = try CLI.start(args + ["--store", store])
        let reader = try RunStore(path: store)
        let started = try await CLI.waitFor(timeout: 180) { ((try? reader.steps(runID: 1).count) ?? 0) >= steps }
        #expect(started, "no steps committed: \(child.finish().stderr)")
        return (child, reader)
    }

    static func exited(_ child: CLI.Child) async throws -> CLI.Result {
        let exited = try await CLI.waitFor(timeout: 120) { !child.process.isRunning }
        #expect(exited, "still running: \(child.finish().stderr)")
        try await child.wait(timeout: 1)
        return child.finish()
    }

    @Test func sigtermPausesWithExit143AndResumeCompletes() async throws {
        let store = CLI.tempStore()
        let (child, reader) = try await Self.startAndWaitForSteps(Self.crossbar, store: store, steps: 3)
        kill(child.process.processIdentifier, SIGTERM)
        let r = try await Self.exited(child)
        #expect(r.status == 143, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--resume 1"), "stderr: \(r.stderr)")
        #expect(try reader.run(id: 1).status == .paused)
        let before = try reader.steps(runID: 1)

        let resumed = try await CLI.run([
            "train", "sim:crossbar", "--resume", "1", "--epochs", "\(before.last!.epoch + 1)", "--store", store,
        ])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let after = try reader.steps(runID: 1)
        #expect(after.count > before.count)
        #expect(after.map(\.step) == Array(1...after.count))
        #expect(try reader.run(id: 1).status == .completed)
    }

    /// The first SIGINT asks for a pause; the second, sent once the first was acknowledged,
    /// aborts: status `aborted` (never `completed`), exit 130, and `--resume` continues the
    /// numbering from the last committed period.
    @Test(arguments: [false, true])
    func doubleSIGINTAbortsACLLNRunThatStaysResumable(hostSteps: Bool) async throws {
        let store = CLI.tempStore()
        let extra = hostSteps ? ["--host-steps"] : []
        // The start record and one whole period (two tasks) committed.
        let (child, reader) = try await Self.startAndWaitForSteps(Self.clln + extra, store: store, steps: 3)
        kill(child.process.processIdentifier, SIGINT)
        let acknowledged = try await CLI.waitFor(timeout: 60) { child.finish().stderr.contains("pausing") }
        #expect(acknowledged, "stderr: \(child.finish().stderr)")
        kill(child.process.processIdentifier, SIGINT)
        let r = try await Self.exited(child)
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("aborted"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--resume 1"), "stderr: \(r.stderr)")
        #expect(try reader.run(id: 1).status == .aborted)
        let before = try reader.steps(runID: 1)
        #expect(before.count % 2 == 1, "only whole periods are committed (start + 2 per period)")
        #expect(before.last!.epoch < 400)

        let resumed = try CLI.start(["train", "sim:clln", "--resume", "1", "--store", store])
        let more = try await CLI.waitFor(timeout: 180) { ((try? reader.steps(runID: 1).count) ?? 0) >= before.count + 2 }
        #expect(more, "resume committed nothing: \(resumed.finish().stderr)")
        #expect(try reader.run(id: 1).status == .running)
        kill(resumed.process.processIdentifier, SIGINT)
        let paused = try await Self.exited(resumed)
        #expect(paused.status == 130, "stderr: \(paused.stderr)")
        #expect(try reader.run(id: 1).status == .paused)
        let after = try reader.steps(runID: 1)
        #expect(after.map(\.step) == Array(1...after.count))
        #expect(after[before.count].epoch == before.last!.epoch + 1, "the resumed run starts at the next period")
        for (a, b) in zip(before, after) { #expect(a.parameters == b.parameters, "committed step \(a.step) changed") }
    }

    @Test func sigkillLeavesTheRunInterruptedInRunsAndShow() async throws {
        let store = CLI.tempStore()
        let (child, reader) = try await Self.startAndWaitForSteps(Self.crossbar, store: store, steps: 3)
        let live = try await CLI.run(["runs", "--json", "--store", store])
        #expect(Self.statuses(live.stdout) == ["running"], "stdout: \(live.stdout)")

        kill(child.process.processIdentifier, SIGKILL)
        try await child.wait(timeout: 60)
        #expect(child.process.terminationReason == .uncaughtSignal)
        let dead = try await CLI.run(["runs", "--json", "--store", store])
        #expect(dead.status == 0, "stderr: \(dead.stderr)")
        #expect(Self.statuses(dead.stdout) == ["interrupted"], "stdout: \(dead.stdout)")
        let shown = try await CLI.run(["show", "1", "--json", "--store", store])
        #expect(CLI.json(shown.stdout)?["status"] as? String == "interrupted", "stdout: \(shown.stdout)")
        #expect(try reader.run(id: 1).status == .interrupted)

        let resumed = try await CLI.run([
            "train", "sim:crossbar", "--resume", "1", "--epochs", "\(try reader.steps(runID: 1).last!.epoch + 1)", "--store",
            store,
        ])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(try reader.run(id: 1).status == .completed)
    }

    @Test func resumingARunAnotherLiveProcessTrainsIsRefused() async throws {
        let store = CLI.tempStore()
        let (child, reader) = try await Self.startAndWaitForSteps(Self.crossbar, store: store, steps: 3)
        let second = try await CLI.run(["train", "sim:crossbar", "--resume", "1", "--store", store])
        #expect(second.status != 0)
        let lines = second.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(second.stderr)")
        #expect(second.stderr.contains("being trained by another pnnlab process (pid \(child.process.processIdentifier))"))
        #expect(child.process.isRunning, "the first process must be untouched")
        #expect(try reader.run(id: 1).status == .running, "the refused resume must not mark the run failed")
        let stepsBefore = try reader.steps(runID: 1).count
        let progressing = try await CLI.waitFor(timeout: 120) { ((try? reader.steps(runID: 1).count) ?? 0) > stepsBefore }
        #expect(progressing, "the first process keeps committing steps")

        kill(child.process.processIdentifier, SIGINT)
        let r = try await Self.exited(child)
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(try reader.run(id: 1).status == .paused)
    }

    static func statuses(_ stdout: String) -> [String] {
        guard let array = (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [[String: Any]] else { return [] }
        return array.compactMap { $0["status"] as? String }
    }
}
