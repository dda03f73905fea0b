/// What a schedule driver does next (see `ScheduleMachine`).
public enum ScheduleAction: Sendable, Equatable {
    /// Measure every point's free outputs (inputs applied, no clamp), read the gate
    /// voltages, then call `record(outputs:gates:)`.
    case evaluate
    /// Read the gate voltages and call `trace(gates:)`.
    case trace
    /// Apply the inputs of this point, measure its free outputs, call `plan(outputFree:)`
    /// and carry out the returned step (set the clamp, learn for its duration).
    case step(task: Int, point: Int)
    /// The schedule is complete.
    case finished
}

/// One learning step decided by the rule: the clamp to impose and how long to learn.
public struct StepPlan: Sendable, Equatable {
    /// Clamp to set before learning; nil when the step is skipped.
    public var clamp: ClampSetting?
    /// Learning time, seconds (0 when skipped).
    public var seconds: Double
    /// The hinge judged the point already beyond its label.
    public var beyondLabel: Bool
}

/// The contrastive schedule as a pure state machine: the one implementation of the rules
/// (standard clamping, overclamping, symmetric nudging, the classification hinge, task
/// alternation with period τ, r0 adaptation, when to record). A host loop and a board's
/// firmware (or its emulator) both drive it, so they cannot disagree. Codable, so a run
/// can checkpoint and resume it.
public struct ScheduleMachine: Sendable, Codable, Equatable {
    public let schedule: ContrastiveSchedule
    public let dataset: ContrastiveDataset

    private enum Pending: Sendable, Codable, Equatable {
        case evaluate(kind: ScheduleRecord.Kind, period: Int, task: Int)
        case trace
    }

    public private(set) var period = 0
    public private(set) var slot = 0
    public private(set) var time = 0.0
    /// Overclamping rate r0 (s/V), adapted once per period to keep τ.
    public private(set) var r0: Double
    public private(set) var steps = 0
    public private(set) var skipped = 0
    private var cursor: [Int]
    private var stepInSlot = 0
    private var slotElapsed = 0.0
    private var periodLearnTime = 0.0
    private var stepsInPeriod = 0
    private var pending: Pending? = .evaluate(kind: .start, period: 0, task: -1)
    public private(set) var isFinished = false

    public init(schedule: ContrastiveSchedule, dataset: ContrastiveDataset) {
        self.schedule = schedule
        self.dataset = dataset
        self.cursor = Array(repeating: 0, count: dataset.tasks.count)
        let labels = dataset.tasks.flatMap { $0.points.flatMap(\.labels) }.map(abs)
        let scale = max(labels.isEmpty ? 0 : labels.reduce(0, +) / Double(labels.count), 1e-3)
        self.r0 = schedule.method == .overclamp ? (schedule.initialR0 ?? schedule.stepSeconds / scale) : 0
        if schedule.startPeriod > 0 {
            self.period = min(schedule.startPeriod, schedule.periods)
            self.pending = nil
            self.isFinished = period >= schedule.periods
        }
    }

    /// Learning time of one task's slot, seconds.
    public var slotSeconds: Double { schedule.periodSeconds / Double(max(1, dataset.tasks.count)) }

    /// Steps per slot under overclamping (its step times vary, so slots count steps).
    public var overclampStepsPerSlot: Int { max(1, Int((slotSeconds / schedule.stepSeconds).rounded())) }

    /// Longest single overclamping step, seconds.
    public var maxOverclampStep: Double { 10 * schedule.stepSeconds }

    /// The next thing the driver must do.
    public func next() -> ScheduleAction {
        switch pending {
        case .evaluate: return .evaluate
        case .trace: return .trace
        case nil: return isFinished ? .finished : .step(task: slot, point: cursor[slot])
        }
    }

    /// Decide the current step from the measured free outputs and advance the schedule.
    public mutating func plan(outputFree: [Double]) -> StepPlan {
        precondition(pending == nil && !isFinished, "plan(outputFree:) called when next() is not .step")
        let task = dataset.tasks[slot]
        let labels = task.points[cursor[slot]].labels
        let deltas = zip(labels, outputFree).map { $0 - $1 }
        let beyond =
            schedule.hinge && task.classification
            && zip(labels, outputFree).allSatisfy { label, out in (out - label) * (label < 0 ? -1 : 1) > 0 }
        var plan: StepPlan
        switch schedule.method {
        case .coupled, .ep:
            let seconds = min(schedule.stepSeconds, slotSeconds - slotElapsed)
            let mode: ClampMode = schedule.method == .ep ? .both : .clamped
            plan = StepPlan(
                clamp: ClampSetting(mode: mode, targets: labels, eta: beyond ? 0 : schedule.eta), seconds: seconds,
                beyondLabel: beyond)
        case .overclamp:
            if beyond {
                plan = StepPlan(clamp: nil, seconds: 0, beyondLabel: true)
            } else {
                let size = deltas.map(abs).reduce(0, +) / Double(max(1, deltas.count))
                let targets = deltas.map { $0 >= 0 ? schedule.overclampLevel : -schedule.overclampLevel }
                plan = StepPlan(
                    clamp: ClampSetting(mode: .clamped, targets: targets, eta: schedule.eta),
                    seconds: min(r0 * size, maxOverclampStep), beyondLabel: false)
            }
        }
        advance(by: plan.seconds, beyond: beyond)
        return plan
    }

    private mutating func advance(by seconds: Double, beyond: Bool) {
        steps += 1
        if beyond { skipped += 1 }
        time += seconds
        slotElapsed += seconds
        periodLearnTime += seconds
        stepInSlot += 1
        stepsInPeriod += 1
        cursor[slot] = (cursor[slot] + 1) % dataset.tasks[slot].points.count
        if schedule.traceEvery > 0 && period == schedule.periods - 1 && stepsInPeriod % schedule.traceEvery == 0 {
            pending = .trace
        }
        let slotDone =
            schedule.method == .overclamp
            ? stepInSlot >= overclampStepsPerSlot
            : slotElapsed >= slotSeconds * (1 - 1e-9)
        guard slotDone else { return }
        if isRecorded(period) { pending = .evaluate(kind: .slotEnd, period: period, task: slot) }
        slot += 1
        stepInSlot = 0
        slotElapsed = 0
        guard slot == dataset.tasks.count else { return }
        slot = 0
        if schedule.method == .overclamp && periodLearnTime > 0 {
            r0 *= min(max(schedule.periodSeconds / periodLearnTime, 0.5), 2)
        }
        periodLearnTime = 0
        stepsInPeriod = 0
        period += 1
        if period == schedule.periods { isFinished = true }
    }

    /// Whether the slot ends of period `p` are evaluated.
    public func isRecorded(_ p: Int) -> Bool {
        (p + 1) % schedule.recordEvery == 0 || p >= schedule.periods - schedule.recordTail
    }

    /// Complete an `.evaluate`: the free outputs of every point of every task and the gates.
    public mutating func record(outputs: [[[Double]]], gates: [Double]) -> ScheduleRecord {
        guard case .evaluate(let kind, let p, let t) = pending else {
            preconditionFailure("record(outputs:gates:) called when next() is not .evaluate")
        }
        pending = nil
        let errors = dataset.tasks.indices.map { dataset.tasks[$0].error(outputs: outputs[$0]) }
        return ScheduleRecord(
            kind: kind, period: p, task: t, time: time, gates: gates, outputs: outputs, errors: errors, r0: r0,
            steps: steps, skipped: skipped)
    }

    /// Complete a `.trace`: the gates now.
    public mutating func trace(gates: [Double]) -> ScheduleRecord {
        precondition(pending == .trace, "trace(gates:) called when next() is not .trace")
        pending = nil
        return ScheduleRecord(
            kind: .trace, period: period, task: slot, time: time, gates: gates, outputs: [], errors: [], r0: r0,
            steps: steps, skipped: skipped)
    }
}
