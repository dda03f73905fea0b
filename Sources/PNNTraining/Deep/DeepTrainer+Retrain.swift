import Foundation
import PNNCore

extension DeepTrainer {
    /// The first step of a retraining run (`startUnit > 0`): the cascade measured as it is —
    /// every unit at the earlier run's parameters, on devices that may have failed since —
    /// so the run's curve starts from the damaged accuracy. Trains nothing.
    func faultEvaluationStep(_ state: inout DeepState) async throws -> StepReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var measurements = [Int](repeating: 0, count: units.count)
        let eval = try await evaluate(&measurements)
        state.evaluationMeasurements += eval.count
        state.lastTrainAccuracy = eval.train
        state.lastTestAccuracy = eval.test
        state.lastLoss = eval.loss
        return closeStep(
            &state, measurements: measurements, started: start, loss: eval.loss, train: eval.train, test: eval.test,
            trainLoss: eval.loss, epochs: progressEpochs, modelAccuracy: true)
    }
}
