import Foundation
import PNNCore

extension DeepTrainer {
    /// One step of PIB's parallel variant (seed 003, Fig. 4C): after one initialisation
    /// pass — every unit programmed at its initial parameters and the training split
    /// measured through the cascade, so each hidden unit has its inputs — every hidden unit
    /// trains one epoch on its own objective at the same time, each on its own inputs, with
    /// no exchange between units (on devices on different machines, each could run where its
    /// device is). After `epochs` such steps the hidden units are deployed together and the
    /// last unit trains on what they measure (`pibStep`), as in the cascade.
    func pibParallelStep(_ state: inout DeepState) async throws -> StepReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var measurements = [Int](repeating: 0, count: units.count)
        let hidden = units.count - 1
        if state.parallelInputs == nil {
            // The initialisation pass (again after a resume: nothing hidden is deployed yet).
            var inputs: [Matrix] = []
            var x = task.trainInputs
            for k in 0..<hidden {
                inputs.append(x)
                _ = try await units[k].setParameters(initialTheta[k])
                let (y, n) = try await measure(unit: k, x, repeats: config.repeats)
                measurements[k] += n
                x = architecture.link(k, outputs: y).nextInputs
            }
            state.parallelInputs = inputs
        }
        guard let inputs = state.parallelInputs else { preconditionFailure("the initialisation pass just ran") }
        // Each unit shuffles with its own generator, drawn in unit order: the result does not
        // depend on which unit finishes first.
        let seeds = (0..<hidden).map { _ in state.rng.next() }
        let trainer = self
        let begin = state
        let results = await withTaskGroup(
            of: (Int, [Double], AdamState, Result<(loss: Double, iXZ: Double, iYZ: Double), LinearAlgebraError>).self
        ) { group in
            for l in 0..<hidden {
                group.addTask {
                    var theta = begin.theta[l]
                    var adam = begin.adam[l]
                    var rng = SeededRandom(seed: seeds[l])
                    let terms = Result { () throws(LinearAlgebraError) in
                        try trainer.pibEpoch(unit: l, inputs: inputs[l], theta: &theta, adam: &adam, rng: &rng)
                    }
                    return (l, theta, adam, terms)
                }
            }
            var out: [(Int, [Double], AdamState, Result<(loss: Double, iXZ: Double, iYZ: Double), LinearAlgebraError>)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        var ixz: [Double] = [], iyz: [Double] = []
        var loss = 0.0
        for (l, theta, adam, result) in results {
            let terms = try result.get()
            state.theta[l] = theta
            state.adam[l] = adam
            ixz.append(terms.iXZ)
            iyz.append(terms.iYZ)
            loss += terms.loss / Double(hidden)
        }
        state.pibUnit = nil
        state.iXZ = nil
        state.iYZ = nil
        state.unitIXZ = ixz
        state.unitIYZ = iyz
        state.epoch += 1
        if state.epoch == epochs {
            // Every hidden unit is trained: deploy them; the last unit trains on their outputs.
            for l in 0..<hidden { _ = try await units[l].setParameters(state.theta[l]) }
            state.parallelInputs = nil
        }
        return closeStep(
            &state, measurements: measurements, started: start, loss: loss, train: nil, test: nil, trainLoss: nil,
            epochs: totalSteps, modelAccuracy: true)
    }
}
