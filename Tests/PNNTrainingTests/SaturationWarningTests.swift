import Foundation
import PNNCore
import PNNStore
import Synchronization
import Testing

@testable import PNNRuns
@testable import PNNTraining

/// Saturated readings (docs/protocol.md §13.3) reach the run: one warning line, a count in
/// each step report, the checkpoint and the run's summary.
@Suite("Saturation in training runs")
struct SaturationWarningTests {
    final class Observer: TrainingObserver {
        let seen = Mutex<(steps: [StepReport], warnings: [String])>(([], []))
        func stepCommitted(_ report: StepReport) { seen.withLock { $0.steps.append(report) } }
        func warning(_ line: String) { seen.withLock { $0.warnings.append(line) } }
    }

    /// Trains Iris for one epoch on `sim:crossbar` with the `[twin]` settings given.
    static func train(twin: JSONValue?) async throws -> (TrainingOutcome, Observer, RunRecord) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sat-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RunStore(path: path)
        var config = TrainerConfig()
        config.epochs = 1
        let plan = RunPlan(task: .iris, method: .gradient, seed: 3, device: "sim:crossbar", trainer: config)
        let opened = try await plan.open(configTwin: twin)
        var recorded = plan
        recorded.twin = opened.device.twin
        let trainer = try Trainer(substrate: opened.substrate, method: .gradient, config: config, task: opened.task)
        var session = try await TrainingSession.start(plan: recorded, trainer: trainer, store: store)
        let observer = Observer()
        let outcome = try await session.run(observer: observer, pauseRequested: { false })
        return (outcome, observer, try store.run(id: session.runID))
    }

    @Test func aRunThatSaturatesWarnsOnceAndRecordsTheCount() async throws {
        // A 0.5 µA full scale: most column currents clip.
        let (outcome, observer, record) = try await Self.train(twin: .object(["full_scale_uA": .number(0.5)]))
        let count = try #require(outcome.saturatedReadings)
        let (steps, warnings) = observer.seen.withLock { ($0.steps, $0.warnings) }
        #expect(count > 0)
        #expect(steps.compactMap(\.saturatedReadings).reduce(0, +) == count, "the steps' counts add up to the run's")
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("saturated") == true)
        #expect(!(warnings.first?.contains("\n") ?? true), "one line")
        let summary = try JSONValue(parsing: Data(try #require(record.summaryJSON).utf8))
        #expect(summary["saturatedReadings"] == .number(Double(count)))
    }

    @Test func aRunWithinFullScaleDoesNotWarn() async throws {
        let (outcome, observer, _) = try await Self.train(twin: nil)
        #expect(outcome.saturatedReadings == 0)
        #expect(observer.seen.withLock { $0.warnings }.isEmpty)
    }

    @Test func theCountSurvivesACheckpoint() throws {
        var state = TrainerState(
            epoch: 0, batchIndex: 0, globalStep: 1, theta: [1], order: [0], rng: SeededRandom(seed: 1),
            cumulativeMeasurements: 4, wallSeconds: 0)
        state.saturatedReadings = 7
        let decoded = try JSONDecoder().decode(TrainerState.self, from: try JSONEncoder().encode(state))
        #expect(decoded.saturatedReadings == 7)
        // A checkpoint written before the count existed still loads (count unknown).
        var old = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(state)) as? [String: Any])
        old["saturatedReadings"] = nil
        let legacy = try JSONDecoder().decode(TrainerState.self, from: try JSONSerialization.data(withJSONObject: old))
        #expect(legacy.saturatedReadings == nil)
    }
}
