/// How the clamped state is chosen from the free output and the label (seed 002).
public enum ContrastiveMethod: String, Sendable, Codable, CaseIterable {
    /// Standard clamping (coupled learning): O_C = O_F + η δ, fixed step t_h.
    case coupled
    /// Overclamping: O_C = O_F + η (L0 sign(δ) − O_F), step t_h = r0 |δ|, r0 adapted to keep τ.
    case overclamp
    /// Symmetric nudging (equilibrium propagation): networks at O_F ± η δ, fixed step t_h.
    case ep
}

/// A multi-task contrastive training schedule. The period τ is shared equally by the
/// tasks, which take turns (two tasks: τ/2 each); within a task's slot its data points are
/// visited in order, one learning step each. Runs on the host or on a board.
public struct ContrastiveSchedule: Sendable, Codable, Equatable {
    public var method: ContrastiveMethod
    /// η for coupled/overclamp, β for ep.
    public var eta: Double
    /// Overclamping level L0, volts.
    public var overclampLevel: Double
    /// Learning time per step t_h (coupled, ep); for overclamp the mean step r0 |δ| aims at.
    public var stepSeconds: Double
    /// Period τ, seconds of learning time, over all tasks.
    public var periodSeconds: Double
    /// Number of periods to run.
    public var periods: Int
    /// Classification hinge: points already beyond their label get η = 0 (coupled, ep) or
    /// are skipped (overclamp).
    public var hinge: Bool
    /// Evaluate (all points' free outputs, gate voltages) at the slot ends of every k-th period.
    public var recordEvery: Int
    /// Also evaluate at the slot ends of the last n periods.
    public var recordTail: Int
    /// Within the last period, record the gate voltages every n steps (0: never).
    public var traceEvery: Int
    /// First period to run (a resumed run continues its numbering; no `start` record then).
    public var startPeriod: Int
    /// Overclamping rate r0 to start from, s/V (nil: step time over the mean |label|).
    public var initialR0: Double?

    public init(
        method: ContrastiveMethod, eta: Double, overclampLevel: Double = 0.435, stepSeconds: Double = 100e-6,
        periodSeconds: Double, periods: Int, hinge: Bool = false, recordEvery: Int = 1, recordTail: Int = 1,
        traceEvery: Int = 0, startPeriod: Int = 0, initialR0: Double? = nil
    ) {
        self.method = method
        self.eta = eta
        self.overclampLevel = overclampLevel
        self.stepSeconds = stepSeconds
        self.periodSeconds = periodSeconds
        self.periods = periods
        self.hinge = hinge
        self.recordEvery = recordEvery
        self.recordTail = recordTail
        self.traceEvery = traceEvery
        self.startPeriod = startPeriod
        self.initialR0 = initialR0
    }

    /// Why the schedule cannot run, or nil.
    public func problem(maxLearnSeconds: Double) -> String? {
        guard eta.isFinite, abs(eta) <= 1, eta != 0 || method == .coupled else {
            return "needs a finite nudge amplitude η with 0 < |η| ≤ 1 (got \(eta))"
        }
        guard stepSeconds.isFinite, stepSeconds > 0, stepSeconds <= maxLearnSeconds else {
            return "step time \(stepSeconds) s must be positive and at most \(maxLearnSeconds) s"
        }
        guard periodSeconds.isFinite, periodSeconds >= stepSeconds else {
            return "period τ = \(periodSeconds) s must be at least one step (\(stepSeconds) s)"
        }
        guard periods >= 1, periods <= 100_000_000 else { return "needs between 1 and 1e8 periods (got \(periods))" }
        guard overclampLevel.isFinite, overclampLevel > 0, overclampLevel <= 1 else {
            return "overclamping level L0 = \(overclampLevel) V must be in (0, 1] V"
        }
        guard recordEvery >= 1, recordTail >= 0, traceEvery >= 0 else { return "has a negative record interval" }
        guard startPeriod >= 0, startPeriod < periods else {
            return "starts at period \(startPeriod), outside 0..<\(periods)"
        }
        if let r = initialR0, !(r.isFinite && r > 0) { return "initial overclamping rate r0 = \(r) s/V must be positive" }
        return nil
    }
}

/// One training example for a contrastive device: source voltages for every input channel
/// (rails and inverted inputs already filled in) and a label per output.
public struct ContrastivePoint: Sendable, Codable, Equatable {
    public var inputs: [Double]
    public var labels: [Double]

    public init(inputs: [Double], labels: [Double]) {
        self.inputs = inputs
        self.labels = labels
    }
}

/// A task of a multi-task schedule (seed 002 treats each class as a task).
public struct ContrastiveTask: Sendable, Codable, Equatable {
    public var name: String
    /// Classification tasks use the hinge error (A2); regression the squared error (A1).
    public var classification: Bool
    public var points: [ContrastivePoint]

    public init(name: String, classification: Bool, points: [ContrastivePoint]) {
        self.name = name
        self.classification = classification
        self.points = points
    }

    /// E = (1/N) Σ δ² over points and outputs, with the hinge Θ(L δ) for classification.
    public func error(outputs: [[Double]]) -> Double {
        var sum = 0.0
        var count = 0
        for (p, point) in points.enumerated() {
            for (o, label) in point.labels.enumerated() {
                let delta = label - outputs[p][o]
                count += 1
                if classification && label * delta <= 0 { continue }
                sum += delta * delta
            }
        }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// Fraction of points whose every output has the sign of its label.
    public func accuracy(outputs: [[Double]]) -> Double {
        guard !points.isEmpty else { return 1 }
        let right = points.indices.filter { p in
            zip(points[p].labels, outputs[p]).allSatisfy { ($0 > 0) == ($1 > 0) }
        }.count
        return Double(right) / Double(points.count)
    }
}

/// The tasks a schedule alternates between.
public struct ContrastiveDataset: Sendable, Codable, Equatable {
    public var tasks: [ContrastiveTask]

    public init(tasks: [ContrastiveTask]) { self.tasks = tasks }

    /// Total number of points over all tasks.
    public var pointCount: Int { tasks.reduce(0) { $0 + $1.points.count } }

    /// Why the dataset cannot be sent to a device with these channels, or nil.
    public func problem(inputs: ChannelSpace, outputs: ChannelSpace) -> String? {
        guard !tasks.isEmpty else { return "has no tasks" }
        for task in tasks {
            guard !task.points.isEmpty else { return "task '\(task.name)' has no points" }
            for (i, point) in task.points.enumerated() {
                guard point.inputs.count == inputs.count else {
                    return "point \(i) of '\(task.name)' has \(point.inputs.count) inputs, device has \(inputs.count)"
                }
                guard point.labels.count == outputs.count else {
                    return "point \(i) of '\(task.name)' has \(point.labels.count) labels, device has \(outputs.count) outputs"
                }
                for v in point.inputs where !(v.isFinite && v >= inputs.lower && v <= inputs.upper) {
                    return
                        "point \(i) of '\(task.name)' has input \(v) V outside the safe range [\(inputs.lower), \(inputs.upper)] V"
                }
                for l in point.labels where !(l.isFinite && l >= outputs.lower && l <= outputs.upper) {
                    return
                        "point \(i) of '\(task.name)' has label \(l) V outside the output range [\(outputs.lower), \(outputs.upper)] V"
                }
            }
        }
        return nil
    }
}

/// A measurement record streamed back while a schedule runs.
public struct ScheduleRecord: Sendable, Codable, Equatable {
    public enum Kind: UInt8, Sendable, Codable {
        /// Before the first step.
        case start = 0
        /// At the end of a task's slot (t = τ/2 and t = τ for two tasks).
        case slotEnd = 1
        /// Gate voltages inside the last period (for cycle plots); no outputs or errors.
        case trace = 2
    }

    public var kind: Kind
    /// Period index, from 0.
    public var period: Int
    /// Task whose slot just ended (−1 for `start`), or the active task for `trace`.
    public var task: Int
    /// Learning time since the schedule started, seconds.
    public var time: Double
    /// Gate voltages (device parameters), volts.
    public var gates: [Double]
    /// Free outputs per task, per point, per output (empty for `trace`).
    public var outputs: [[[Double]]]
    /// Error per task (A1 / A2), V² (empty for `trace`).
    public var errors: [Double]
    /// Overclamping rate r0 in force, s/V (0 for other methods).
    public var r0: Double
    /// Learning steps taken so far, and how many of them the hinge skipped.
    public var steps: Int
    public var skipped: Int

    public init(
        kind: Kind, period: Int, task: Int, time: Double, gates: [Double], outputs: [[[Double]]], errors: [Double],
        r0: Double, steps: Int, skipped: Int
    ) {
        self.kind = kind
        self.period = period
        self.task = task
        self.time = time
        self.gates = gates
        self.outputs = outputs
        self.errors = errors
        self.r0 = r0
        self.steps = steps
        self.skipped = skipped
    }

    /// E = mean of the task errors (A3).
    public var meanError: Double { errors.isEmpty ? 0 : errors.reduce(0, +) / Double(errors.count) }
}
