import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// Receives progress while a run trains (the CLI draws its progress bar from this).
public protocol TrainingObserver: Sendable {
    /// Called after each step has been committed to the store.
    func stepCommitted(_ report: StepReport)
    /// A one-line warning about the run (e.g. saturated readings), at most once per kind.
    func warning(_ line: String)
}

extension TrainingObserver {
    /// Observers that show no warnings ignore them.
    public func warning(_ line: String) {}
}

/// A training run bound to a store: every step is committed (parameters, checkpoint,
/// measurements) before the next begins, so a killed process loses at most the step in
/// flight and `resume` continues from the last commit.
public struct TrainingSession: Sendable {
    public let runID: Int64
    public let trainer: Trainer
    public let store: RunStore
    public private(set) var state: TrainerState

    /// Start a new run: compute its digital ceiling, record it, program the initial parameters.
    public static func start(plan: RunPlan, trainer: Trainer, store: RunStore) async throws -> TrainingSession {
        // The readout gain in use is recorded, so a resume never re-derives it from a device
        // whose output range has changed.
        var plan = plan
        if plan.trainer.gain == nil && plan.trainer.readout == .softmax { plan.trainer.gain = trainer.readout.gain }
        let record = RunRecord(
            deviceName: plan.device, identity: trainer.substrate.descriptor.identity, task: plan.task.rawValue,
            method: plan.method.rawValue, seed: plan.seed, configJSON: try plan.json(),
            digitalCeiling: trainer.method == .readout || trainer.task.name.isRegression
                ? nil : try trainer.digitalCeiling().testAccuracy)
        let id = try store.createRun(record)
        let state = try await trainer.initialState(seed: plan.seed)
        return TrainingSession(runID: id, trainer: trainer, store: store, state: state)
    }

    /// Continue run `runID` from its last committed step on `trainer` (which must have been
    /// built from the run's stored plan). Reprograms the device with the checkpoint.
    public static func resume(runID: Int64, trainer: Trainer, store: RunStore) async throws -> TrainingSession {
        let record = try store.run(id: runID)
        if !record.status.isResumable { throw TrainingError.nothingToResume(runID) }
        // Before the device is touched: refuse a run another live process is training.
        try store.claimRun(id: runID)
        do {
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
                        "checkpoint has \(state.theta.count) parameters, device has \(trainer.substrate.descriptor.parameters.count)"
                    )
                }
                try await trainer.restore(state)
            } else {
                let plan = try RunPlan.from(json: record.configJSON)
                state = try await trainer.initialState(seed: plan.seed)
            }
            if record.digitalCeiling == nil && trainer.method != .readout && !trainer.task.name.isRegression {
                // Recorded before stores kept the ceiling: the run's plan fixes it, so compute it now.
                try store.setDigitalCeiling(runID: runID, try trainer.digitalCeiling().testAccuracy)
            }
            try store.setStatus(runID: runID, .running, summaryJSON: nil)
            return TrainingSession(runID: runID, trainer: trainer, store: store, state: state)
        } catch {
            store.releaseRun(id: runID)
            throw error
        }
    }

    /// Train until the last epoch or until `pauseRequested()` turns true at a step
    /// boundary. The device is left in its safe state either way, and on error.
    ///
    /// Cancelling the calling task (a second interrupt) abandons the step in flight: the
    /// device still goes through its safe-state ramp, the run is marked `aborted` (resumable
    /// from its last committed step) and `CancellationError` is thrown. Any other error
    /// marks it `failed`.
    public mutating func run(observer: (any TrainingObserver)?, pauseRequested: @Sendable () -> Bool) async throws
        -> TrainingOutcome
    {
        do {
            while !trainer.isFinished(state) {
                try Task.checkCancellation()
                if pauseRequested() {
                    try await enterSafeStateShielded(trainer.substrate)
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
                // A readout run learns its ceiling (the readout on ideal outputs) in its step.
                if trainer.method == .readout, let ceiling = state.readoutCeiling {
                    try store.setDigitalCeiling(runID: runID, ceiling.testAccuracy)
                }
                let warnSaturation = (state.saturatedReadings ?? 0) == 0 && (next.saturatedReadings ?? 0) > 0
                state = next
                observer?.stepCommitted(report)
                if warnSaturation { observer?.warning(Self.saturationWarning(state: state, report: report)) }
            }
            try await enterSafeStateShielded(trainer.substrate)
            try store.setStatus(runID: runID, .completed, summaryJSON: try summaryJSON(.completed))
            return outcome(.completed)
        } catch {
            throw await stopOnError(error, runID: runID, substrate: trainer.substrate, store: store)
        }
    }

    func outcome(_ stop: TrainingStop) -> TrainingOutcome {
        TrainingOutcome(
            runID: runID, stop: stop, steps: state.globalStep, trainAccuracy: state.lastTrainAccuracy,
            testAccuracy: state.lastTestAccuracy, finalLoss: state.lastLoss,
            measurements: state.cumulativeMeasurements, wallSeconds: state.wallSeconds,
            saturatedReadings: state.saturatedReadings)
    }

    /// The run's one saturation warning, given at its first step with a saturated reading.
    static func saturationWarning(state: TrainerState, report: StepReport) -> String {
        let n = report.saturatedReadings ?? state.saturatedReadings ?? 0
        return "step \(report.step): \(n) output reading\(n == 1 ? " was" : "s were") saturated (the ADC clipped at full "
            + "scale, so the value is a bound, not a measurement); the run counts them (saturatedReadings in its summary)"
    }

    func summaryJSON(_ stop: TrainingStop) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(outcome(stop)), as: UTF8.self)
    }
}

/// Puts the device in its safe state even when the calling task has been cancelled (a
/// second interrupt): the ramp runs in a task of its own, which the cancellation does not
/// reach, so a cancellation-aware link still carries it out.
func enterSafeStateShielded(_ substrate: any Substrate) async throws {
    try await Task { try await substrate.enterSafeState() }.value
}

/// After a training loop stopped on `error`: device safe, run marked `aborted` (the task was
/// cancelled) or `failed`. Returns the error to throw: `CancellationError` for an abort,
/// whatever error the cancellation surfaced as.
func stopOnError(_ error: any Error, runID: Int64, substrate: any Substrate, store: RunStore) async -> any Error {
    let aborted = Task.isCancelled || error is CancellationError
    try? await enterSafeStateShielded(substrate)
    try? store.setStatus(runID: runID, aborted ? .aborted : .failed, summaryJSON: nil)
    return aborted ? CancellationError() : error
}
