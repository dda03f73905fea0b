import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// What `pnnlab train` was asked on the command line, before it becomes a run plan. The
/// resolution — flags over the config file over defaults, `--resume` checks — lives here so
/// the command line only parses and prints.
public struct TrainRequest: Sendable {
    public var device: String
    public var task: String?
    public var method: String?
    public var epochs: Int?
    public var seed: UInt64?
    /// `--config FILE`.
    public var configPath: String?
    /// `--resume RUN`.
    public var resume: Int64?
    public var baud: Int?
    /// `--jacobian-refresh N` (new Jacobian runs; overrides the config file).
    public var jacobianRefresh: Int?

    public init(
        device: String, task: String? = nil, method: String? = nil, epochs: Int? = nil, seed: UInt64? = nil,
        configPath: String? = nil, resume: Int64? = nil, baud: Int? = nil, jacobianRefresh: Int? = nil
    ) {
        self.jacobianRefresh = jacobianRefresh
        self.device = device
        self.task = task
        self.method = method
        self.epochs = epochs
        self.seed = seed
        self.configPath = configPath
        self.resume = resume
        self.baud = baud
    }

    /// Whether the request trains with a contrastive method (or resumes such a run).
    public func isContrastive(store: RunStore) throws -> Bool {
        if let resume { return ContrastivePlan.from(json: try store.run(id: resume).configJSON) != nil }
        return method.map { ContrastiveMethod(rawValue: $0) != nil } ?? false
    }

    /// The stored plan of the run being resumed, checked against the DEVICE given.
    func storedRecord(_ resume: Int64, store: RunStore) throws -> RunRecord {
        let record = try store.run(id: resume)
        if record.deviceName != device {
            throw RunError.invalid(
                "run \(resume) was trained on \(record.deviceName); resume it with: pnnlab train \(record.deviceName) --resume \(resume)"
            )
        }
        return record
    }

    /// The Jacobian-method plan (and the config file's `[twin]` table for a new run).
    public func jacobianPlan(store: RunStore) throws -> (RunPlan, JSONValue?) {
        if let resume {
            var plan = try RunPlan.from(json: try storedRecord(resume, store: store).configJSON)
            if let epochs { plan.trainer.epochs = epochs }
            if let baud { plan.baud = baud }
            return (plan, nil)
        }
        var file = ConfigFile()
        if let configPath { file = try ConfigFile.load(path: configPath) }
        if file.tiling != nil, let configPath {
            throw RunError.invalid(
                "\(configPath): [tiling] splits the units of a deep run (--layers) over arrays; this run has none")
        }
        guard let taskName = task ?? file.task else {
            throw RunError.invalid("missing --task (\(TaskName.allCases.map(\.rawValue).joined(separator: "|")))")
        }
        guard let t = TaskName(rawValue: taskName) else {
            if ContrastiveTaskName(rawValue: taskName) != nil {
                throw RunError.invalid(
                    "task '\(taskName)' is trained by a contrastive method: add --method "
                        + ContrastiveMethod.allCases.map(\.rawValue).joined(separator: "|"))
            }
            throw TrainingError.unknownTask(taskName)
        }
        let methodName = method ?? file.method ?? TrainingMethod.gaussNewton.rawValue
        guard let m = TrainingMethod(rawValue: methodName) else { throw TrainingError.unknownMethod(methodName) }
        var trainer = file.trainer
        if let epochs { trainer.epochs = epochs }
        if let jacobianRefresh { trainer.jacobianRefresh = jacobianRefresh }
        guard (1...TrainerConfig.maxEpochs).contains(trainer.epochs ?? 1) else {
            throw RunError.invalid("\(configPath ?? "config"): trainer.epochs must be between 1 and \(TrainerConfig.maxEpochs)")
        }
        var plan = RunPlan(task: t, method: m, seed: seed ?? file.seed ?? 1, device: device, trainer: trainer)
        plan.baud = baud
        return (plan, file.twin)
    }

    /// The contrastive plan (and the config file's `[twin]` table for a new run).
    public func contrastivePlan(_ settings: ContrastiveSettings, store: RunStore) throws -> (ContrastivePlan, JSONValue?) {
        if let resume {
            guard let stored = ContrastivePlan.from(json: try storedRecord(resume, store: store).configJSON) else {
                throw RunError.invalid("run \(resume) is not a contrastive run")
            }
            return (stored, nil)
        }
        var file: ConfigFile?
        if let configPath {
            let loaded = try ConfigFile.load(path: configPath)
            if loaded.tiling != nil {
                throw RunError.invalid(
                    "\(configPath): [tiling] splits the units of a deep run (--layers) over arrays; this run has none")
            }
            if loaded.method != nil || loaded.trainer != TrainerConfig() {
                throw RunError.invalid(
                    "\(configPath): method and [trainer] settings apply to the Jacobian methods; contrastive runs take --method and their options on the command line"
                )
            }
            file = loaded
        }
        guard let task = task ?? file?.task else {
            throw RunError.invalid("missing --task (\(ContrastiveTaskName.allCases.map(\.rawValue).joined(separator: "|")))")
        }
        guard let method = method.flatMap(ContrastiveMethod.init(rawValue:)) else {
            throw RunError.invalid(
                "--method must be one of \(ContrastiveMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let plan = try settings.plan(device: device, task: task, method: method, seed: seed ?? file?.seed ?? 1, baud: baud)
        return (plan, file?.twin)
    }
}

/// The contrastive methods' settings as given (nil: the method's default), and their defaults.
public struct ContrastiveSettings: Sendable, Equatable {
    public var tau: Double?
    public var periods: Int?
    public var eta: Double?
    public var stepMs: Double = ContrastiveSettings.defaultStepMs
    public var overclampLevel: Double = ContrastiveSettings.defaultOverclampLevel
    public var radiusMv: Double?
    public var rotation: Int?
    public var hinge: Bool?
    public var hostSteps = false
    public var recordEvery = 1
    public var traceEvery = 0
    public var initialGate: Double?

    public static let defaultStepMs = 0.1
    public static let defaultOverclampLevel = 0.435

    public init() {}

    /// η by method: coupled 1, overclamp 0.25, ep 0.1.
    public static func defaultEta(_ method: ContrastiveMethod) -> Double {
        switch method {
        case .coupled: 1
        case .overclamp: 0.25
        case .ep: 0.1
        }
    }

    /// The settings given (as flags), for refusing them on the Jacobian methods.
    public var given: [String] {
        var out: [String] = []
        if tau != nil { out.append("--tau") }
        if periods != nil { out.append("--periods") }
        if eta != nil { out.append("--eta") }
        if stepMs != Self.defaultStepMs { out.append("--step-ms") }
        if overclampLevel != Self.defaultOverclampLevel { out.append("--overclamp-level") }
        if radiusMv != nil { out.append("--radius-mv") }
        if rotation != nil { out.append("--rotation") }
        if hinge != nil { out.append("--hinge") }
        if hostSteps { out.append("--host-steps") }
        if recordEvery != 1 { out.append("--record-every") }
        if traceEvery != 0 { out.append("--trace-every") }
        if initialGate != nil { out.append("--initial-gate") }
        return out
    }

    /// The plan for `device`, `task` and `method` with the method's defaults filled in.
    public func plan(device: String, task: String, method: ContrastiveMethod, seed: UInt64, baud: Int?) throws
        -> ContrastivePlan
    {
        guard let name = ContrastiveTaskName(rawValue: task) else {
            throw RunError.invalid(
                "unknown task '\(task)' for --method \(method.rawValue); choose one of "
                    + ContrastiveTaskName.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if name != .ring && (radiusMv != nil || rotation != nil) {
            throw RunError.invalid("--radius-mv and --rotation apply to the ring task only")
        }
        let spec = ContrastiveTaskSpec(
            name: name, radiusMillivolts: name == .ring ? (radiusMv ?? 417) : nil, rotation: name == .ring ? (rotation ?? 0) : nil
        )
        let classification = name == .grid || name == .ring || name == .iris
        let step = stepMs / 1000
        // Iris: one pass over the training split per period (its 105 points, a step each).
        let tau = self.tau ?? (name == .iris ? 105 * step : classification ? 2 * step : 0.2)
        let periods = self.periods ?? max(20, Int((2 / tau).rounded(.up)))
        let schedule = ContrastiveSchedule(
            method: method, eta: eta ?? Self.defaultEta(method), overclampLevel: overclampLevel, stepSeconds: step,
            periodSeconds: tau, periods: periods, hinge: hinge ?? classification, recordEvery: recordEvery, recordTail: 3,
            traceEvery: traceEvery)
        if let why = schedule.problem(maxLearnSeconds: .infinity) { throw RunError.invalid("the training schedule \(why)") }
        return ContrastivePlan(
            device: device, task: spec, schedule: schedule, seed: seed, initialParameter: initialGate,
            preferHostSteps: hostSteps, baud: baud)
    }
}
