import Foundation
import PNNCore
import PNNSim
import PNNTraining
import Testing

/// The `readout` method: the ridge algebra against a direct solve, and accuracy on the optical twin.
@Suite struct ReadoutMethodTests {
    @Test func ridgeSolutionSatisfiesItsNormalEquations() throws {
        var rng = SeededRandom(seed: 4)
        let n = 300
        let f = 7
        let x = Matrix(rows: n, cols: f, storage: (0..<(n * f)).map { _ in rng.normal() * 3 + 1 })
        let labels = (0..<n).map { _ in Int(rng.next() % 3) }
        var acc = RidgeAccumulator(features: f, classes: 3)
        acc.add(x.rowSlice(0..<100), labels: Array(labels[0..<100]))
        acc.add(x.rowSlice(100..<n), labels: Array(labels[100..<n]))
        let lambda = 0.1
        let model = try acc.solve(lambda: lambda)
        // Independently: Z standardised with population statistics, (ZᵀZ/n + λI) W = Zᵀ(Y − ȳ)/n.
        var z = x
        for c in 0..<f {
            let col = x.column(c)
            let m = col.reduce(0, +) / Double(n)
            let s = (col.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n)).squareRoot()
            #expect(abs(model.mean[c] - m) < 1e-9 && abs(model.scale[c] - s) < 1e-9)
            for r in 0..<n { z[r, c] = (x[r, c] - m) / s }
        }
        var y = Matrix(rows: n, cols: 3)
        for r in 0..<n { y[r, labels[r]] = 1 }
        let lhs = Matrix.product(z, transposeA: true, z)
        let rhs = Matrix.product(z, transposeA: true, y)
        let lw = Matrix.product(lhs, model.weights)
        for i in 0..<f {
            for k in 0..<3 {
                let residual = lw[i, k] / Double(n) + lambda * model.weights[i, k] - rhs[i, k] / Double(n)
                #expect(abs(residual) < 1e-10)
            }
        }
        // The effective weights on raw features give the same scores.
        let s1 = model.scores(x)
        let e = model.effectiveWeights
        for r in [0, 17, 299] {
            for k in 0..<3 {
                var v = e[f, k]
                for c in 0..<f { v += x[r, c] * e[c, k] }
                #expect(abs(v - s1[r, k]) < 1e-9)
            }
        }
    }

    @Test func choleskySolveMatchesTheSystem() throws {
        let a = Matrix([[4, 1, 0], [1, 3, 1], [0, 1, 2]])
        let b = Matrix([[1, 2], [0, 1], [3, 0]])
        let x = try a.solveSymmetricPositiveDefinite(b)
        let back = Matrix.product(a, x)
        for i in back.storage.indices { #expect(abs(back.storage[i] - b.storage[i]) < 1e-12) }
        #expect(throws: LinearAlgebraError.self) {
            try Matrix([[1, 2], [2, 1]]).solveSymmetricPositiveDefinite(b.rowSlice(0..<2))
        }
    }

    /// Digits 8×8 through a 32×32-pixel speckle camera, every non-ideality on.
    @Test func readoutOnTheOpticalTwinBeatsABound() async throws {
        var config = TrainerConfig()
        config.recordOutputs = false
        let task = try PreparedTask(.digits, config: config, amplitude: 0.8, seed: 3)
        var optics = OpticsConfig()
        optics.inputs = task.trainInputs.cols
        optics.parameters = 16
        optics.cameraWidth = 32
        optics.cameraHeight = 32
        optics.seed = 3
        let twin = try OpticsTwin(config: optics)
        let trainer = try Trainer(substrate: twin, method: .readout, config: config, task: task)
        #expect(trainer.epochs == 1 && trainer.batchesPerEpoch == 1)
        var state = try await trainer.initialState(seed: 3)
        let before = await twin.readParameters()
        let (report, _) = try await trainer.step(&state)
        #expect(trainer.isFinished(state))
        #expect(await twin.readParameters() == before, "the physical projection is never changed")
        let test = try #require(report.testAccuracy)
        let ceiling = try #require(state.readoutCeiling)
        #expect(test >= 0.9, "digits through the speckle twin: \(test)")
        #expect(ceiling.source == "ideal-outputs")
        #expect(ceiling.testAccuracy >= test - 0.03, "noise-free features do at least about as well")
        #expect(report.measurements == task.train.count + task.test.count)
        #expect(state.lastLoss.map { $0 >= 0 && $0 < 1 } == true, "loss \(String(describing: state.lastLoss)) nats")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory), "needs dataset-fashion-mnist"))
    func fashionSubsetUsesTheOfficialSplit() throws {
        var config = TrainerConfig()
        config.subset = 600
        let task = try PreparedTask(.fashionMNIST, config: config, amplitude: 0.8, seed: 1)
        #expect(task.train.count == 600 && task.test.count == 100)
        #expect(task.trainInputs.cols == 785)
        #expect(task.classCount == 10)
    }
}
