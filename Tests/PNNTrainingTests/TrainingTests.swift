import PNNCore
import PNNSim
import Testing

@testable import PNNDevices
@testable import PNNExperiments
@testable import PNNRuns
@testable import PNNTraining

@Suite("Training on the crossbar twin")
struct TrainingTests {
    func trainer(_ task: TaskName, _ method: TrainingMethod, seed: UInt64, epochs: Int) async throws -> Trainer {
        var config = TrainerConfig()
        config.epochs = epochs
        let plan = RunPlan(task: task, method: method, seed: seed, device: "sim:crossbar", trainer: config)
        let opened = try await plan.open()
        return try Trainer(substrate: opened.substrate, method: method, config: config, task: opened.task)
    }

    @Test func gaussNewtonLearnsIrisOnTheNoisyTwin() async throws {
        let t = try await trainer(.iris, .gaussNewton, seed: 2, epochs: 6)
        var state = try await t.initialState(seed: 2)
        let before = try await t.evaluate()
        while !t.isFinished(state) { _ = try await t.step(&state) }
        let after = try await t.evaluate()
        #expect(after.testAccuracy >= 0.85, "test accuracy \(after.testAccuracy)")
        #expect(after.trainLoss < before.trainLoss)
        #expect(state.cumulativeMeasurements > 0)
    }

    @Test func gaussNewtonSolvesXorWithTheQuadraticEncoding() async throws {
        let t = try await trainer(.xor, .gaussNewton, seed: 1, epochs: 6)
        var state = try await t.initialState(seed: 1)
        while !t.isFinished(state) { _ = try await t.step(&state) }
        #expect(try await t.evaluate().testAccuracy >= 0.9)
    }

    @Test func stepsAreReproducibleFromACheckpoint() async throws {
        let t = try await trainer(.iris, .spsa, seed: 3, epochs: 2)
        var state = try await t.initialState(seed: 3)
        _ = try await t.step(&state)
        let saved = state
        _ = try await t.step(&state)
        // Same checkpoint → same SPSA perturbation draws and schedule position.
        var replay = saved
        try await t.restore(replay)
        _ = try await t.step(&replay)
        #expect(replay.globalStep == state.globalStep && replay.batchIndex == state.batchIndex && replay.order == state.order)
        #expect(replay.rng == state.rng)
    }

    @Test func taskNeedsMatchingDeviceShape() throws {
        var config = CrossbarConfig()
        config.rows = 3
        let twin = CrossbarTwin(physics: try CrossbarPhysics(config: config))
        let task = try PreparedTask(.iris, config: TrainerConfig(), amplitude: 0.2, seed: 1)
        #expect(throws: TrainingError.self) {
            try Trainer(substrate: twin, method: .gradient, config: TrainerConfig(), task: task)
        }
    }
}
