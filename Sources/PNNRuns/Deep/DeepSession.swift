import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// A deep run bound to a store, like `TrainingSession`: every step (one epoch of every
/// unit, or an in-silico run's deployment) is committed — loss, accuracies, measurements,
/// all units' parameters, the optimiser's checkpoint with per-unit measurements — before the
/// next begins, so `resume` continues from the last commit.
public struct DeepSession: Sendable {
    public let runID: Int64
    public let trainer: DeepTrainer
    public let store: RunStore
    public private(set) var state: DeepState

    /// Start a new run: compute its digital ceiling, record it, program the initial parameters.
    /// A retraining run (`plan.retrain`) starts from the earlier run's last parameters,
    /// programmed onto every unit.
    public static func start(plan: DeepPlan, trainer: DeepTrainer, store: RunStore) async throws -> DeepSession {
        let record = RunRecord(
            deviceName: plan.device, identity: trainer.units[0].descriptor.identity, task: plan.task.rawValue,
            method: plan.method.rawValue, seed: plan.seed, configJSON: try plan.json(),
            digitalCeiling: trainer.digitalCeiling())
        let state: DeepState
        if let retrained = try plan.retrainState(trainer: trainer, store: store) {
            try await trainer.restore(retrained)
            state = retrained
        } else {
            state = try await trainer.initialState()
        }
        let id = try store.createRun(record)
        return DeepSession(runID: id, trainer: trainer, store: store, state: state)
    }

    /// Continue run `runID` from its last committed step on `trainer` (built from the run's plan).
    public static func resume(runID: Int64, trainer: DeepTrainer, store: RunStore) async throws -> DeepSession {
        let record = try store.run(id: runID)
        if !record.status.isResumable { throw TrainingError.nothingToResume(runID) }
        try store.claimRun(id: runID)
        do {
            let identity = trainer.units[0].descriptor.identity
            guard identity.family == record.identity.family, identity.serial == record.identity.serial else {
                throw TrainingError.resumeMismatch(
                    "run \(runID) was recorded on \(record.identity.summary), but the first unit now is \(identity.summary)")
            }
            var state: DeepState
            if let last = try store.lastStep(runID: runID) {
                let decoded = try JSONDecoder().decode(DeepState.self, from: Data(last.checkpointJSON.utf8))
                guard let full = decoded.withParameters(last.parameters, sizes: trainer.parameterCounts) else {
                    throw TrainingError.resumeMismatch(
                        "the checkpoint holds \(last.parameters.count) parameters, the units have \(trainer.parameterCounts.reduce(0, +))"
                    )
                }
                state = full
                if trainer.method != .inSilico || state.deployed { try await trainer.restore(state) }
            } else {
                state = try await trainer.initialState()
            }
            try store.setStatus(runID: runID, .running, summaryJSON: nil)
            return DeepSession(runID: runID, trainer: trainer, store: store, state: state)
        } catch {
            store.releaseRun(id: runID)
            throw error
        }
    }

    /// Train until the run is finished or `pauseRequested()` turns true at a step boundary.
    /// Every unit is left in its safe state either way, and on error.
    public mutating func run(observer: (any TrainingObserver)?, pauseRequested: @Sendable () -> Bool) async throws
        -> TrainingOutcome
    {
        do {
            while !trainer.isFinished(state) {
                try Task.checkCancellation()
                if pauseRequested() {
                    try await safeAll()
                    try store.setStatus(runID: runID, .paused, summaryJSON: try summaryJSON(.paused))
                    return outcome(.paused)
                }
                var next = state
                let report = try await trainer.step(&next)
                let record = StepRecord(
                    runID: runID, step: report.step, epoch: report.epoch, loss: report.loss,
                    trainAccuracy: report.trainAccuracy, testAccuracy: report.testAccuracy,
                    measurements: report.measurements, cumulativeMeasurements: report.cumulativeMeasurements,
                    wallSeconds: report.wallSeconds, parameters: next.flatParameters,
                    checkpointJSON: String(decoding: try JSONEncoder().encode(next), as: UTF8.self))
                try store.appendStep(record)
                state = next
                observer?.stepCommitted(report)
            }
            try await safeAll()
            try store.setStatus(runID: runID, .completed, summaryJSON: try summaryJSON(.completed))
            return outcome(.completed)
        } catch {
            for unit in trainer.units.dropFirst() { try? await enterSafeStateShielded(unit) }
            throw await stopOnError(error, runID: runID, substrate: trainer.units[0], store: store)
        }
    }

    func safeAll() async throws {
        for unit in trainer.units { try await enterSafeStateShielded(unit) }
    }

    func outcome(_ stop: TrainingStop) -> TrainingOutcome {
        TrainingOutcome(
            runID: runID, stop: stop, steps: state.globalStep, trainAccuracy: state.lastTrainAccuracy,
            testAccuracy: state.lastTestAccuracy, finalLoss: state.lastLoss,
            measurements: state.cumulativeMeasurements, wallSeconds: state.wallSeconds)
    }

    func summaryJSON(_ stop: TrainingStop) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(outcome(stop)), as: UTF8.self)
    }
}
