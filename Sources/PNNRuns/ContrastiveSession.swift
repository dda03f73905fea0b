import Foundation
import PNNCore
import PNNStore
import PNNTraining
import Synchronization

/// A contrastive run bound to a store. Records are committed a whole period at a time
/// (both slot ends together, with the period's trace), so a pause, a crash or an unplug
/// leaves the run ending on a complete period and `resume` continues at the next one with
/// the gates reprogrammed from the last commit.
public struct ContrastiveSession: Sendable {
    public let runID: Int64
    public let plan: ContrastivePlan
    public let driver: ContrastiveDriver
    public let dataset: ContrastiveDataset
    public let store: RunStore
    /// Where this session starts: the schedule with `startPeriod`/`initialR0` for a resume.
    public private(set) var schedule: ContrastiveSchedule
    /// Samples measured (free outputs, argmax readout) at every committed period and stored
    /// as its test accuracy, never learned from (Iris's test split); nil for seed 002's tasks.
    public var heldOut: HeldOutSplit?
    private var timeOffset = 0.0
    private var committedSteps = 0

    /// Record a new run and program every trainable parameter to its initial value.
    public static func start(plan: ContrastivePlan, driver: ContrastiveDriver, dataset: ContrastiveDataset, store: RunStore)
        async throws -> ContrastiveSession
    {
        let d = driver.substrate.descriptor
        let record = RunRecord(
            deviceName: plan.device, identity: d.identity, task: plan.task.name.rawValue,
            method: plan.schedule.method.rawValue, seed: plan.seed, configJSON: try plan.json())
        let id = try store.createRun(record)
        let initial = (0..<d.parameters.count).map { i in
            plan.initialParameter ?? (d.parameters.lower[i] + d.parameters.upper[i]) / 2
        }
        _ = try await driver.substrate.setParameters(initial)
        return ContrastiveSession(
            runID: id, plan: plan, driver: driver, dataset: dataset, store: store, schedule: plan.schedule)
    }

    /// Continue run `runID` at the period after its last committed one.
    public static func resume(
        runID: Int64, plan: ContrastivePlan, driver: ContrastiveDriver, dataset: ContrastiveDataset, store: RunStore
    )
        async throws -> ContrastiveSession
    {
        let record = try store.run(id: runID)
        if !record.status.isResumable { throw TrainingError.nothingToResume(runID) }
        // Before the device is touched: refuse a run another live process is training.
        try store.claimRun(id: runID)
        do {
            let identity = driver.substrate.descriptor.identity
            guard identity.family == record.identity.family, identity.serial == record.identity.serial else {
                throw TrainingError.resumeMismatch(
                    "run \(runID) was recorded on \(record.identity.summary), but the device now is \(identity.summary)")
            }
            var session = ContrastiveSession(
                runID: runID, plan: plan, driver: driver, dataset: dataset, store: store, schedule: plan.schedule)
            if let last = try store.lastStep(runID: runID) {
                let checkpoint = try JSONDecoder().decode(ContrastiveCheckpoint.self, from: Data(last.checkpointJSON.utf8))
                let next = checkpoint.kind == .start ? 0 : checkpoint.period + 1
                if next >= plan.schedule.periods { throw TrainingError.nothingToResume(runID) }
                _ = try await driver.substrate.setParameters(last.parameters)
                session.schedule.startPeriod = next
                session.schedule.initialR0 = checkpoint.r0 > 0 ? checkpoint.r0 : nil
                session.timeOffset = checkpoint.time
                session.committedSteps = last.step
            } else {
                let d = driver.substrate.descriptor
                _ = try await driver.substrate.setParameters(
                    (0..<d.parameters.count).map {
                        plan.initialParameter ?? (d.parameters.lower[$0] + d.parameters.upper[$0]) / 2
                    })
            }
            try store.setStatus(runID: runID, .running, summaryJSON: nil)
            return session
        } catch {
            store.releaseRun(id: runID)
            throw error
        }
    }

    /// Run to the end of the schedule, or until `pauseRequested()` is true at a committed
    /// period. The device is left safe either way, and on error.
    ///
    /// Cancelling the calling task (a second interrupt) stops at the next record: the period
    /// in flight is dropped, the device still goes through its safe-state ramp, the run is
    /// marked `aborted` (resumable from its last committed period) and `CancellationError`
    /// is thrown. A run is marked `completed` only when its last period was committed.
    public func run(observer: (any TrainingObserver)?, pauseRequested: @escaping @Sendable () -> Bool) async throws
        -> TrainingOutcome
    {
        let committer = PeriodCommitter(
            runID: runID, store: store, dataset: dataset, periods: schedule.periods, timeOffset: timeOffset,
            firstStep: committedSteps, skipStart: committedSteps > 0, observer: observer)
        do {
            let heldOut = heldOut
            let substrate = driver.substrate
            let lastTask = dataset.tasks.count - 1
            let ranToEnd = try await driver.run(schedule, dataset: dataset) { record in
                try Task.checkCancellation()
                var test: Double?
                if let heldOut, record.kind == .start || (record.kind == .slotEnd && record.task == lastTask) {
                    test = heldOut.accuracy(outputs: try await substrate.measure(heldOut.inputs))
                }
                let committed = try committer.take(record, testAccuracy: test)
                return !(committed && pauseRequested())
            }
            // A cancelled record stream simply ends: never take that for the end of the schedule.
            try Task.checkCancellation()
            let last = committer.lastCommittedPeriod
            if ranToEnd, let expected = lastRecordedPeriod, expected >= schedule.startPeriod, last != expected {
                throw ContrastiveSessionError.scheduleEndedEarly(committed: last.map { $0 + 1 } ?? 0, of: schedule.periods)
            }
            try await enterSafeStateShielded(driver.substrate)
            let stop: TrainingStop = ranToEnd ? .completed : .paused
            let outcome = committer.outcome(stop)
            try store.setStatus(
                runID: runID, ranToEnd ? .completed : .paused, summaryJSON: try Self.summary(outcome, mode: driver.mode))
            return outcome
        } catch {
            throw await stopOnError(error, runID: runID, substrate: driver.substrate, store: store)
        }
    }

    /// The last period whose slot ends the schedule records (`ScheduleMachine.isRecorded`);
    /// `nil` when none is.
    var lastRecordedPeriod: Int? {
        let s = schedule
        return stride(from: s.periods - 1, through: max(0, s.periods - max(s.recordEvery, 1)), by: -1).first { p in
            (p + 1) % s.recordEvery == 0 || p >= s.periods - s.recordTail
        }
    }

    /// The stored summary: the outcome and how the schedule was driven (`RunResult.mode` reads it).
    static func summary(_ outcome: TrainingOutcome, mode: ContrastiveDriveMode) throws -> String {
        struct Stored: Encodable {
            var outcome: TrainingOutcome
            var mode: ContrastiveDriveMode
            enum Keys: String, CodingKey { case mode }
            func encode(to encoder: any Encoder) throws {
                try outcome.encode(to: encoder)
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(mode, forKey: .mode)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(Stored(outcome: outcome, mode: mode)), as: UTF8.self)
    }
}

/// Why a contrastive run stopped that is neither paused nor completed.
public enum ContrastiveSessionError: Error, Equatable, CustomStringConvertible {
    /// The device's record stream ended without error before the last period.
    case scheduleEndedEarly(committed: Int, of: Int)

    public var description: String {
        switch self {
        case .scheduleEndedEarly(let committed, let total):
            "the device stopped sending records after period \(committed) of \(total); the run keeps what it committed"
        }
    }
}

/// Buffers a period's records and commits them together.
final class PeriodCommitter: Sendable {
    private struct State {
        var buffer: [ScheduleRecord] = []
        var traces: [ScheduleRecord] = []
        var step: Int
        var lastSteps = 0
        var last: ScheduleRecord?
        var lastPeriod: Int?
        var testAccuracy: Double?
        var startedAt = Date()
        var lastCommit = Date()
    }

    let runID: Int64
    let store: RunStore
    let dataset: ContrastiveDataset
    let periods: Int
    let timeOffset: Double
    let skipStart: Bool
    let observer: (any TrainingObserver)?
    private let state: Mutex<State>

    init(
        runID: Int64, store: RunStore, dataset: ContrastiveDataset, periods: Int, timeOffset: Double, firstStep: Int,
        skipStart: Bool, observer: (any TrainingObserver)?
    ) {
        self.runID = runID
        self.store = store
        self.dataset = dataset
        self.periods = periods
        self.timeOffset = timeOffset
        self.skipStart = skipStart
        self.observer = observer
        self.state = Mutex(State(step: firstStep))
    }

    /// Takes one record; returns true when it completed (and committed) a period.
    func take(_ incoming: ScheduleRecord, testAccuracy: Double? = nil) throws -> Bool {
        var record = incoming
        record.time += timeOffset
        if record.kind == .start && skipStart { return false }
        let reports: [StepReport] = try state.withLock { s in
            if let testAccuracy { s.testAccuracy = testAccuracy }
            switch record.kind {
            case .trace:
                s.traces.append(record)
                return []
            case .start:
                s.buffer.append(record)
            case .slotEnd:
                s.buffer.append(record)
                guard record.task == dataset.tasks.count - 1 else { return [] }
            }
            var out: [StepReport] = []
            var rows: [(StepRecord, [MeasurementBlock])] = []
            for (i, r) in s.buffer.enumerated() {
                let isLast = i == s.buffer.count - 1
                let (row, report) = try prepare(r, traces: isLast ? s.traces : [], test: isLast ? testAccuracy : nil, state: &s)
                rows.append(row)
                out.append(report)
            }
            try store.appendSteps(rows)
            if record.kind == .slotEnd { s.lastPeriod = record.period }
            s.buffer.removeAll()
            s.traces.removeAll()
            return out
        }
        for r in reports { observer?.stepCommitted(r) }
        return !reports.isEmpty && record.kind == .slotEnd
    }

    private func prepare(_ r: ScheduleRecord, traces: [ScheduleRecord], test: Double?, state s: inout State) throws -> (
        (StepRecord, [MeasurementBlock]), StepReport
    ) {
        s.step += 1
        let accuracies = dataset.tasks.indices.map { dataset.tasks[$0].accuracy(outputs: r.outputs[$0]) }
        let classification = dataset.tasks.contains { $0.classification }
        let total = dataset.pointCount
        let accuracy =
            classification
            ? zip(dataset.tasks, accuracies).reduce(0.0) { $0 + $1.1 * Double($1.0.points.count) } / Double(max(total, 1))
            : nil
        let checkpoint = ContrastiveCheckpoint(
            kind: r.kind, period: r.period, task: r.task, time: r.time, r0: r.r0, steps: r.steps, skipped: r.skipped,
            errors: r.errors, accuracies: accuracies)
        let now = Date()
        let wall = now.timeIntervalSince(s.lastCommit)
        s.lastCommit = now
        let flat = r.outputs.flatMap { $0.flatMap { $0 } }
        var blocks = [MeasurementBlock(kind: "outputs", rows: total, cols: flat.count / max(total, 1), values: flat)]
        if !traces.isEmpty {
            let width = 3 + traces[0].gates.count
            blocks.append(
                MeasurementBlock(
                    kind: "trace", rows: traces.count, cols: width,
                    values: traces.flatMap { [Double($0.period), Double($0.task), $0.time] + $0.gates }))
        }
        let record = StepRecord(
            runID: runID, step: s.step, epoch: r.period + 1, loss: r.meanError, trainAccuracy: accuracy, testAccuracy: test,
            measurements: r.steps - s.lastSteps, cumulativeMeasurements: r.steps, wallSeconds: wall, parameters: r.gates,
            checkpointJSON: String(decoding: try JSONEncoder().encode(checkpoint), as: UTF8.self))
        s.lastSteps = r.steps
        s.last = r
        let report = StepReport(
            step: s.step, epoch: r.period + 1, epochs: periods, batchIndex: r.task + 1,
            batchesPerEpoch: dataset.tasks.count, loss: r.meanError, trainAccuracy: accuracy, testAccuracy: test,
            trainLoss: r.meanError, measurements: r.steps, cumulativeMeasurements: r.steps, wallSeconds: wall,
            runWallSeconds: now.timeIntervalSince(s.startedAt))
        return ((record, blocks), report)
    }

    /// The last period committed in this session (0-based; `nil` before the first).
    var lastCommittedPeriod: Int? { state.withLock { $0.lastPeriod } }

    func outcome(_ stop: TrainingStop) -> TrainingOutcome {
        state.withLock { s in
            let accuracy =
                s.last.map { r in
                    dataset.tasks.contains { $0.classification }
                        ? dataset.tasks.indices.map {
                            dataset.tasks[$0].accuracy(outputs: r.outputs[$0]) * Double(dataset.tasks[$0].points.count)
                        }
                        .reduce(0, +) / Double(max(dataset.pointCount, 1)) : nil
                } ?? nil
            return TrainingOutcome(
                runID: runID, stop: stop, steps: s.step, trainAccuracy: accuracy, testAccuracy: s.testAccuracy,
                finalLoss: s.last?.meanError, measurements: s.last?.steps ?? 0,
                wallSeconds: Date().timeIntervalSince(s.startedAt))
        }
    }
}
