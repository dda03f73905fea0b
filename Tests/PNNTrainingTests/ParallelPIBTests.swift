import Foundation
import PNNCore
import Testing

@testable import PNNDevices
@testable import PNNRuns
@testable import PNNTraining

/// PIB's parallel variant (seed 003, Fig. 4C): hidden units trained at once after one
/// initialisation pass, then the output unit. Small (digits, 240 samples, 2 epochs).
@Suite("Parallel PIB")
struct ParallelPIBTests {
    func trainer(layers: [Int], parallel: Bool, ideal: Bool = true) async throws -> DeepTrainer {
        var config = TrainerConfig()
        config.epochs = 2
        config.subset = 240
        let plan = DeepPlan(device: "sim:crossbar", task: .digits, method: .pib, seed: 3, layers: layers, trainer: config)
        let opened = try await plan.open(twinOptionWords: ideal ? ["--ideal"] : [])
        return try DeepTrainer(
            units: opened.units, models: opened.models, widths: layers, method: .pib, config: config, task: opened.task,
            seed: 3, parallel: parallel)
    }

    /// Two hidden units: the initialisation pass measures through both (the output unit's
    /// inputs are not needed yet), every parallel step trains both (two information points
    /// per step), then the output unit trains in cascade on the deployed hidden units; 2·epochs
    /// steps in all, where the cascade takes 3·epochs.
    @Test func hiddenUnitsTrainTogetherThenTheOutputUnit() async throws {
        let t = try await trainer(layers: [12, 8, 10], parallel: true)
        #expect(t.totalSteps == 4)
        var state = try await t.initialState()
        let start = state.theta
        var reports: [StepReport] = []
        var points: [[Double]] = []
        while !t.isFinished(state) {
            reports.append(try await t.step(&state))
            if let p = state.unitIYZ { points.append(p) }
        }
        #expect(reports.count == 4)
        #expect(points.count == 2 && points.allSatisfy { $0.count == 2 && $0.allSatisfy { $0.isFinite && $0 > 0 } })
        #expect(reports[0].measurements > 0, "the initialisation pass measures the hidden units")
        #expect(reports[1].measurements == 0, "a parallel step after it trains on models alone")
        #expect(reports[2].measurements > 0, "the output unit's inputs are measured through both deployed hidden units")
        for l in 0..<2 { #expect(state.theta[l] != start[l], "hidden unit \(l + 1) trained") }
        // The deployed hidden units hold what they trained to.
        for l in 0..<2 {
            let read = try await t.units[l].readParameters()
            let worst = zip(read, state.theta[l]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-6, "unit \(l + 1) deployed: worst |θ read − θ trained| = \(worst)")
        }
        // Ten classes (chance 10 %), two epochs of 240 samples per phase: well above chance.
        #expect((state.lastTestAccuracy ?? 0) > 0.3, "test accuracy \(state.lastTestAccuracy ?? -1)")
    }

    /// The units train concurrently, but each shuffles with its own generator drawn in unit
    /// order: two runs give identical parameters.
    @Test func parallelTrainingIsDeterministic() async throws {
        var finals: [[[Double]]] = []
        for _ in 0..<2 {
            let t = try await trainer(layers: [12, 8, 10], parallel: true)
            var state = try await t.initialState()
            while !t.isFinished(state) { _ = try await t.step(&state) }
            finals.append(state.theta)
        }
        #expect(finals[0] == finals[1])
    }

    @Test func parallelNeedsPIBAndAHiddenUnit() async throws {
        await #expect(throws: TrainingError.self) { _ = try await trainer(layers: [10], parallel: true) }
    }
}
