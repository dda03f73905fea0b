import Foundation
import PNNCore
import PNNRuns
import PNNStore
import PNNTraining
import Testing

/// A regression task (`multiply`) through a stored run: RMS errors instead of accuracies.
@Suite("Regression runs in the store")
struct RegressionRunTests {
    @Test func aMultiplyRunReportsItsRMSErrorAndNoAccuracy() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regression-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RunStore(path: path)
        let config = TrainerConfig()  // Gauss–Newton's 15 epochs
        let plan = RunPlan(task: .multiply, method: .gaussNewton, seed: 2, device: "sim:cv-photonic", trainer: config)
        let opened = try await plan.open()
        var recorded = plan
        recorded.twin = opened.device.twin
        let trainer = try Trainer(substrate: opened.substrate, method: .gaussNewton, config: config, task: opened.task)
        #expect(trainer.learningRate == 0.2)
        var session = try await TrainingSession.start(plan: recorded, trainer: trainer, store: store)
        _ = try await session.run(observer: nil, pauseRequested: { false })
        let r = try RunResult.load(runID: session.runID, store: store)
        #expect(r.testAccuracy == nil && r.trainAccuracy == nil && r.digitalCeiling == nil)
        #expect(r.lossUnit == "output^2")
        let rms = try #require(r.rmsError)
        // 1000 shots per read: shot noise and the sinh's curvature leave a few hundredths of
        // the ±1 range; a zero output would be 0.40.
        #expect(rms < 0.08, "test-grid RMS error \(rms)")
        #expect(r.trainRmsError != nil && r.finalLoss != nil)
        #expect(throws: TrainingError.self) {
            _ = try Trainer(substrate: opened.substrate, method: .readout, config: config, task: opened.task)
        }
    }
}
