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
        let model = modelEvaluation(state.theta)
        state.modelTrainAccuracy = model.train
        state.modelTestAccuracy = model.test
        let total = measurements.reduce(0, +)
        for k in units.indices { state.unitMeasurements[k] += measurements[k] }
        state.cumulativeMeasurements += total
        state.globalStep += 1
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        state.wallSeconds += wall
        return StepReport(
            step: state.globalStep, epoch: state.epoch, epochs: totalSteps, batchIndex: 0, batchesPerEpoch: 1,
            loss: eval.loss, trainAccuracy: eval.train, testAccuracy: eval.test, trainLoss: eval.loss, measurements: total,
            cumulativeMeasurements: state.cumulativeMeasurements, wallSeconds: wall, runWallSeconds: state.wallSeconds)
    }
}
