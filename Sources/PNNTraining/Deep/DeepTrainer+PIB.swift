import Foundation
import PNNCore

extension DeepTrainer {
    /// One PIB step: one epoch of unit ℓ = ⌊epoch / epochs⌋ on its model. The unit's inputs
    /// are what the deployed units before it measure on the training split (measured once
    /// per unit, again after a resume). A hidden unit minimises −I(Y;Z) + β·I(X;Z) for its
    /// activations Z = tanh(y/s), X the encoded global inputs and Y the labels; the last unit
    /// minimises the readout's cross-entropy. After its last epoch the unit is programmed
    /// (deployed); after the last unit the cascade is measured on both splits.
    func pibStep(_ state: inout DeepState) async throws -> StepReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var measurements = [Int](repeating: 0, count: units.count)
        let last = units.count - 1
        // Cascade: unit ⌊epoch / epochs⌋. Parallel: the hidden units trained together
        // (`pibParallelStep`); what remains is the last unit.
        let l = parallel ? last : state.epoch / epochs
        if state.phaseUnit != l || state.phaseInputs == nil {
            var x = task.trainInputs
            for k in 0..<l {
                let (y, n) = try await measure(unit: k, x, repeats: config.repeats)
                measurements[k] += n
                x = architecture.link(k, outputs: y).nextInputs
            }
            state.phaseInputs = x
            state.phaseUnit = l
        }
        guard let inputs = state.phaseInputs else { preconditionFailure("phase inputs were just set") }
        let epoch = try pibEpoch(unit: l, inputs: inputs, theta: &state.theta[l], adam: &state.adam[l], rng: &state.rng)
        state.pibUnit = l
        state.iXZ = l == last ? nil : epoch.iXZ
        state.iYZ = l == last ? nil : epoch.iYZ
        state.unitIXZ = nil
        state.unitIYZ = nil
        state.epoch += 1
        var trainAcc: Double?
        var testAcc: Double?
        var evalLoss: Double?
        if state.epoch % epochs == 0 {
            // The unit is trained: deploy it; the next unit's inputs are measured through it.
            _ = try await units[l].setParameters(state.theta[l])
            state.phaseInputs = nil
            state.phaseUnit = nil
        }
        if l == last && (state.epoch % max(config.evaluateEvery, 1) == 0 || state.epoch % epochs == 0) {
            if state.epoch % epochs != 0 { _ = try await units[l].setParameters(state.theta[l]) }
            let eval = try await evaluate(&measurements)
            state.evaluationMeasurements += eval.count
            (trainAcc, testAcc, evalLoss) = (eval.train, eval.test, eval.loss)
            state.lastTrainAccuracy = trainAcc
            state.lastTestAccuracy = testAcc
            state.lastLoss = evalLoss
        }
        return closeStep(
            &state, measurements: measurements, started: start, loss: epoch.loss, train: trainAcc, test: testAcc,
            trainLoss: evalLoss, epochs: progressEpochs, modelAccuracy: true)
    }

    /// One epoch of unit ℓ on its model: a hidden unit minimises −I(Y;Z) + β·I(X;Z) on
    /// batches of at least `minimumPIBBatch`, the last unit the readout's cross-entropy.
    /// `inputs` are the unit's measured inputs on the training split. Returns the mean loss
    /// and the mean information terms (bits; 0 for the last unit).
    func pibEpoch(
        unit l: Int, inputs: Matrix, theta: inout [Double], adam: inout AdamState, rng: inout SeededRandom
    ) throws(LinearAlgebraError) -> (loss: Double, iXZ: Double, iYZ: Double) {
        let last = units.count - 1
        let space = units[l].descriptor.parameters
        let range = zip(space.upper, space.lower).map { $0 - $1 }
        let batch = l == last ? config.batchSize : max(config.batchSize, Self.minimumPIBBatch)
        let batches = (task.train.count + batch - 1) / batch
        var order = Array(0..<task.train.count)
        order.shuffle(using: &rng)
        var lossSum = 0.0, ixz = 0.0, iyz = 0.0
        for b in 0..<batches {
            let lo = b * batch
            let idx = Array(order[lo..<min(lo + batch, order.count)])
            let x = inputs.rows(at: idx)
            let labels = idx.map { task.train.labels[$0] }
            let y = trainingModels[l].forward(theta: theta, inputs: x)
            let gy: Matrix
            if l == last {
                lossSum += readout.loss(y, labels: labels)
                gy = Matrix(rows: y.rows, cols: y.cols, storage: readout.gradient(y, labels: labels))
            } else {
                let z = architecture.link(l, outputs: y).activations
                let terms = try MatrixRenyi.pib(
                    z: z, kx: MatrixRenyi.gram(task.trainInputs.rows(at: idx)), ky: MatrixRenyi.labelGram(labels), beta: beta,
                    alpha: config.renyiAlpha)
                lossSum += terms.loss
                ixz += terms.iXZ
                iyz += terms.iYZ
                var g = terms.gradient
                let slope = architecture.linkSlope(l, activations: z)
                for i in g.storage.indices { g.storage[i] *= slope.storage[i] }
                gy = g
            }
            let gTheta = trainingModels[l].vjp(theta: theta, inputs: x, cotangent: gy).theta
            adam.step(&theta, gradient: gTheta, rate: learningRate, range: range, lower: space.lower, upper: space.upper)
        }
        let count = Double(max(batches, 1))
        return (lossSum / count, ixz / count, iyz / count)
    }
}
