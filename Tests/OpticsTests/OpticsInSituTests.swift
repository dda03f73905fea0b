import Foundation
import PNNCore
import PNNSim
import PNNTraining
import Testing

/// In-situ phase training of the overlay twin: the trainable grey levels, added to the
/// input macro-pixels, learn digits well above chance (the side-by-side layout cannot:
/// docs/results.md, "In-situ phase training").
@Suite struct OpticsInSituTests {
    /// Class score = the mean DN of camera pixel k; accuracy of the twin's current phases.
    static func accuracy(_ twin: OpticsTwin, _ inputs: Matrix, _ labels: [Int]) async throws -> Double {
        let out = try await twin.measure(inputs)
        var right = 0
        for r in 0..<out.rows {
            let scores = (0..<10).map { out[r, $0] }
            if scores.firstIndex(of: scores.max()!) == labels[r] { right += 1 }
        }
        return Double(right) / Double(out.rows)
    }

    /// FD gradient (Mode A) on 300 training digits for 2 epochs, every non-ideality on,
    /// judged on the whole 539-digit test split (33.6 % after, 8.2 % before). Seeded end to end: the figures do not
    /// depend on the machine's load.
    @Test func overlayPhaseTrainingBeatsChance() async throws {
        var config = TrainerConfig()
        config.recordOutputs = false
        config.subset = 300
        config.epochs = 2
        config.gain = 0.005
        config.learningRate = 3000
        config.evaluationRepeats = 1
        let task = try PreparedTask(.digits, config: config, amplitude: 0.8, seed: 3)
        var full = config
        full.subset = nil
        let judge = try PreparedTask(.digits, config: full, amplitude: 0.8, seed: 3)
        var optics = OpticsConfig()
        optics.layout = .overlay
        optics.inputs = task.trainInputs.cols
        optics.parameters = optics.inputs
        optics.cameraWidth = 16
        optics.cameraHeight = 8
        optics.seed = 3
        let twin = try OpticsTwin(config: optics)
        let trainer = try Trainer(substrate: twin, method: .gradient, config: config, task: task)
        var state = try await trainer.initialState(seed: 3)
        _ = try await twin.setParameters(state.theta)
        let before = try await Self.accuracy(twin, judge.testInputs, judge.test.labels)
        while !trainer.isFinished(state) { _ = try await trainer.step(&state) }
        let after = try await Self.accuracy(twin, judge.testInputs, judge.test.labels)
        print("overlay in-situ FD: test accuracy \(before) → \(after) on \(judge.test.count) digits")
        #expect(judge.test.count == 539)
        #expect(after > 0.25, "ten classes, chance 0.1: \(after)")
        #expect(after > before + 0.15, "training moved the accuracy: \(before) → \(after)")
    }
}
