import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// Receives progress while a run trains (the CLI draws its progress bar from this).
public protocol TrainingObserver: Sendable {
    /// Called after each step has been committed to the store.
    func stepCommitted(_ report: StepReport)
}

/// A training run bound to a store: every step is committed (parameters, checkpoint,
/// measurements) before the next begins, so a killed process loses at most the step in
/// flight and `resume` continues from the last commit.
public struct TrainingSession: Sendable {
    public let runID: Int64
    public let trainer: Trainer
    public let store: RunStore
    public private(set) var state: TrainerState

    /// Start a new run: record it, program the initial parameters.
    public static func start(plan: RunPlan, trainer: Trainer, store: RunStore) async throws -> TrainingSession {
        let record = RunRecord(
            deviceName: plan.device, identity: trainer.substrate.descriptor.identity, task: plan.task.rawValue,
            method: plan.method.rawValue, seed: plan.seed, configJSON: try plan.json())
        let id = try store.createRun(record)
        let state = try await trainer.initialState(seed: plan.seed)
        return TrainingSession(runID: id, trainer: trainer, store: store, state: state)
    }

    /// Continue run `runID` from its last committed step on `trainer` (which must have been
    /// built from the run's stored plan). Reprograms the device with the checkpoint.
    public static func resume(runID: Int64, trainer: Trainer, store: RunStore) async throws -> TrainingSession {
        let record = try store.run(id: runID)
        if record.status == .completed { throw TrainingError.nothingToResume(runID) }
        let identity = trainer.substrate.descriptor.identity
        guard identity.family == record.identity.family, identity.serial == record.identity.serial else {
            throw TrainingError.resumeMismatch(
                "run \(runID) was recorded on \(record.identity.summary), but the device now is \(identity.summary)")
        }
        let state: TrainerState
        if let last = try store.lastStep(runID: runID) {
            state = try JSONDecoder().decode(TrainerState.self, from: Data(last.checkpointJSON.utf8))
            guard state.theta.count == trainer.substrate.descriptor.parameters.count else {
                throw TrainingError.resumeMismatch(
                    "checkpoint has \(state.theta.count) parameters, device has \(trainer.substrate.descriptor.parameters.count)")
            }
            try await trainer.restore(state)
        } else {
            let plan = try RunPlan.from(json: record.configJSON)
            state = try await trainer.initialState(seed: plan.seed)
        }
        try store.setStatus(runID: runID, .running, summaryJSON: nil)
        return TrainingSession(runID: runID, trainer: trainer, store: store, state: state)
    }

    /// Train until the last epoch or until `pauseRequested()` turns true at a step
    /// boundary. The device is left in its safe state either way, and on error.
    public mutating func run(observer: (any TrainingObserver)?, pauseRequested: @Sendable () -> Bool) async throws
        -> TrainingOutcome
    {
        do {
            while !trainer.isFinished(state) {
                if pauseRequested() {
                    try await trainer.substrate.enterSafeState()
                    try store.setStatus(runID: runID, .paused, summaryJSON: try summaryJSON(.paused))
                    return outcome(.paused)
                }
                var next = state
                let (report, blocks) = try await trainer.step(&next)
                let record = StepRecord(
                    runID: runID, step: report.step, epoch: report.epoch, loss: report.loss,
                    trainAccuracy: report.trainAccuracy, testAccuracy: report.testAccuracy,
                    measurements: report.measurements, cumulativeMeasurements: report.cumulativeMeasurements,
                    wallSeconds: report.wallSeconds, parameters: next.theta,
                    checkpointJSON: String(decoding: try JSONEncoder().encode(next), as: UTF8.self))
                try store.appendStep(record, measurements: blocks.map { MeasurementBlock(kind: $0.kind, matrix: $0.matrix) })
                state = next
                observer?.stepCommitted(report)
            }
            try await trainer.substrate.enterSafeState()
            try store.setStatus(runID: runID, .completed, summaryJSON: try summaryJSON(.completed))
            return outcome(.completed)
        } catch {
            try? await trainer.substrate.enterSafeState()
            try? store.setStatus(runID: runID, .failed, summaryJSON: nil)
            throw error
        }
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
