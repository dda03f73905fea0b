import Foundation
import PNNStore
import Testing

@Suite("kill -9, Ctrl-C and --resume with real child processes", .serialized)
struct ResumeCLITests {
    /// Start a long run, SIGKILL it once some steps are committed, resume it: no committed
    /// step is lost or duplicated and the run completes.
    @Test func resumeAfterSIGKILLLosesNoCommittedStep() async throws {
        let store = CLI.tempStore()
        let child = try CLI.start([
            "train", "sim:crossbar", "--task", "iris", "--method", "spsa", "--epochs", "100000", "--seed", "3", "--store", store,
        ])
        let reader = try RunStore(path: store)
        let started = try await CLI.waitFor(timeout: 120) { ((try? reader.steps(runID: 1).count) ?? 0) >= 5 }
        #expect(started, "no steps committed: \(child.finish().stderr)")
        kill(child.process.processIdentifier, SIGKILL)
        try await waitForExit(child.process, timeout: 60)
        #expect(child.process.terminationReason == .uncaughtSignal)

        let before = try reader.steps(runID: 1)
        #expect(before.count >= 5)
        #expect(before.map(\.step) == Array(1...before.count))
        #expect(try reader.run(id: 1).status == .interrupted, "a killed process leaves the run interrupted")

        let resumed = try await CLI.run([
            "train", "sim:crossbar", "--resume", "1", "--epochs", "\(before.last!.epoch + 2)", "--json", "--store", store,
        ])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        let after = try reader.steps(runID: 1)
        #expect(after.map(\.step) == Array(1...after.count), "steps must continue without gaps or duplicates")
        #expect(after.count > before.count)
        for (a, b) in zip(before, after) {
            #expect(a.parameters == b.parameters, "committed step \(a.step) changed")
        }
        #expect(try reader.run(id: 1).status == .completed)
    }

    /// SIGINT pauses at a step boundary (exit 130, status paused); resume completes.
    @Test func ctrlCPausesAndResumeCompletes() async throws {
        let store = CLI.tempStore()
        let child = try CLI.start([
            "train", "sim:crossbar", "--task", "iris", "--method", "spsa", "--epochs", "100000", "--store", store,
        ])
        let reader = try RunStore(path: store)
        let running = try await CLI.waitFor(timeout: 120) { ((try? reader.steps(runID: 1).count) ?? 0) >= 3 }
        #expect(running)
        kill(child.process.processIdentifier, SIGINT)
        let exited = try await CLI.waitFor(timeout: 60) { !child.process.isRunning }
        #expect(exited)
        let r = child.finish()
        #expect(r.status == 130, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("--resume 1"))
        #expect(try reader.run(id: 1).status == .paused)
        let steps = try reader.steps(runID: 1).count

        let resumed = try await CLI.run([
            "train", "sim:crossbar", "--resume", "1", "--epochs", "\(try reader.steps(runID: 1).last!.epoch + 1)", "--store",
            store,
        ])
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(try reader.steps(runID: 1).count > steps)
        #expect(try reader.run(id: 1).status == .completed)
    }
}
