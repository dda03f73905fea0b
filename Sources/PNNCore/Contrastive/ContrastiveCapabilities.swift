/// Which of a twin-network device's two copies an operation refers to.
public enum NetworkSide: UInt8, Sendable, Codable, CaseIterable {
    /// The network whose outputs float (the prediction).
    case free = 0
    /// The network whose outputs are nudged toward the label.
    case clamped = 1
}

/// How the outputs of a twin-network device are held.
public enum ClampMode: UInt8, Sendable, Codable, CaseIterable {
    /// Both networks free: no learning signal.
    case free = 0
    /// The clamped network's outputs are held at O_F + η (T − O_F); the free network floats.
    case clamped = 1
    /// Symmetric nudging (equilibrium propagation): the clamped network is held at
    /// O_F + η (T − O_F) and the free network at O_F − η (T − O_F).
    case both = 2
}

/// An output boundary condition: mode, one target T per output (volts of O) and η.
///
/// O_F is the free output measured by the device just before the clamp is applied. A
/// differential output O = O+ − O− is nudged by splitting the change equally between its
/// two nodes (+Δ/2 on O+, −Δ/2 on O−).
public struct ClampSetting: Sendable, Codable, Equatable {
    public var mode: ClampMode
    /// Target per output, in volts of O.
    public var targets: [Double]
    /// Nudge amplitude η, |η| ≤ 1.
    public var eta: Double

    public init(mode: ClampMode, targets: [Double], eta: Double) {
        self.mode = mode
        self.targets = targets
        self.eta = eta
    }

    /// Both networks free.
    public static func free(outputs: Int) -> ClampSetting {
        ClampSetting(mode: .free, targets: Array(repeating: 0, count: outputs), eta: 0)
    }
}

/// A device whose outputs can be clamped: twin free/clamped networks with held inputs.
/// Learning methods that compare a free and a clamped state need this.
public protocol Clampable: Substrate {
    /// Hold `inputs` (already validated) on the input nodes of both networks until changed.
    func uncheckedApplyInputs(_ inputs: [Double]) async throws
    /// Impose an output boundary condition (already validated).
    func uncheckedSetClamp(_ setting: ClampSetting) async throws
}

/// A device whose internal node voltages can be read, and which reports its wiring so a
/// host can compute edge voltage drops (host-side coupled learning, calibration).
public protocol NodeReadout: Substrate {
    /// Nodes, edges, inputs and outputs. Never changes while attached.
    var topology: NetworkTopology { get }
    /// Every node voltage (volts) of one network, held nodes included.
    func readNodes(_ side: NetworkSide) async throws -> [Double]
}

/// A clampable device without a learning rule or node voltages that reports, per trainable
/// parameter, the local quantity coupled learning contrasts (a spring's bond extension):
/// the host update is then Δθ_i = −(α/2η)(s_C,i² − s_F,i²), as for a resistor's voltage drop.
public protocol ElementStrainReadout: Clampable {
    /// One value per trainable parameter (parameter order) in the free or the clamped state,
    /// for the held inputs and clamp.
    func elementStrains(_ side: NetworkSide) async throws -> [Double]
}

/// A device that runs its own local learning rule while learning is switched on (a CLLN
/// board: each edge's gate capacitor charges at A0 (ΔV_F² − ΔV_C²) + B).
public protocol SelfLearning: Substrate {
    /// Longest single learning interval the device accepts, seconds.
    var maxLearnSeconds: Double { get }
    /// Switch learning on for `seconds` (already validated) with the present inputs and clamp.
    func uncheckedLearn(seconds: Double) async throws
}

/// A self-learning device that can run a whole contrastive schedule on board (dataset
/// loaded once, records streamed back), so the link's round trips are not paid per step.
public protocol OnBoardTraining: SelfLearning, Clampable {
    /// Run `schedule` over `dataset` (both already validated) and stream its records.
    func uncheckedRunSchedule(_ schedule: ContrastiveSchedule, dataset: ContrastiveDataset)
        -> AsyncThrowingStream<ScheduleRecord, any Error>
}

/// Refusals of contrastive-learning requests, raised on the host before anything is sent.
public enum ContrastiveRequestError: Error, Equatable, CustomStringConvertible {
    case wrongTargetCount(expected: Int, got: Int)
    case targetOutOfRange(value: Double, lower: Double, upper: Double)
    case etaOutOfRange(Double)
    case learnDurationOutOfRange(seconds: Double, max: Double)
    case invalidSchedule(String)
    case invalidDataset(String)

    public var description: String {
        switch self {
        case .wrongTargetCount(let expected, let got):
            return "refused: device has \(expected) outputs, clamp gave \(got) targets"
        case .targetOutOfRange(let value, let lower, let upper):
            return "refused: clamp target \(value) V is outside the output range [\(lower), \(upper)] V"
        case .etaOutOfRange(let eta):
            return "refused: nudge amplitude η = \(eta) must be finite with |η| ≤ 1"
        case .learnDurationOutOfRange(let seconds, let max):
            return "refused: learning time \(seconds) s must be between 0 and \(max) s"
        case .invalidSchedule(let why):
            return "refused: training schedule \(why)"
        case .invalidDataset(let why):
            return "refused: dataset \(why)"
        }
    }
}

extension Substrate {
    /// This substrate as capability `T` (e.g. `(any Clampable).self`), if the descriptor
    /// declares `flag` and the object implements it; otherwise a clear error naming `purpose`.
    public func require<T>(_ flag: Capabilities, as type: T.Type, for purpose: String) throws(SubstrateError) -> T {
        guard descriptor.capabilities.contains(flag), let cast = self as? T else {
            throw .missingCapabilityFor(
                flag.names.joined(separator: "+"), device: descriptor.identity.summary, purpose: purpose)
        }
        return cast
    }
}

extension Clampable {
    /// Hold `inputs` after checking each against the input channels' safe range.
    public func applyInputs(_ inputs: [Double]) async throws {
        let safe = try SafetyGuard(descriptor).checkInputs(Matrix(rows: 1, cols: inputs.count, storage: inputs), policy: .reject)
        try await uncheckedApplyInputs(safe.storage)
    }

    /// Impose `setting` after checking its shape, η and targets.
    public func setClamp(_ setting: ClampSetting) async throws {
        try ContrastiveValidation.check(setting, outputs: descriptor.outputs)
        try await uncheckedSetClamp(setting)
    }
}

extension SelfLearning {
    /// Learn for `seconds` after checking the duration.
    public func learn(seconds: Double) async throws {
        guard seconds.isFinite, seconds >= 0, seconds <= maxLearnSeconds else {
            throw ContrastiveRequestError.learnDurationOutOfRange(seconds: seconds, max: maxLearnSeconds)
        }
        try await uncheckedLearn(seconds: seconds)
    }
}

extension OnBoardTraining {
    /// Run a schedule after validating it and every input of the dataset.
    public func runSchedule(_ schedule: ContrastiveSchedule, dataset: ContrastiveDataset) throws
        -> AsyncThrowingStream<ScheduleRecord, any Error>
    {
        try ContrastiveValidation.check(schedule, maxLearnSeconds: maxLearnSeconds)
        try ContrastiveValidation.check(dataset, descriptor: descriptor)
        return uncheckedRunSchedule(schedule, dataset: dataset)
    }
}

/// Pure validation of clamp settings, schedules and datasets against a descriptor; used
/// by the checked entry points on the host and again by emulators before executing.
public enum ContrastiveValidation {
    public static func check(_ setting: ClampSetting, outputs: ChannelSpace) throws(ContrastiveRequestError) {
        guard setting.targets.count == outputs.count else {
            throw .wrongTargetCount(expected: outputs.count, got: setting.targets.count)
        }
        guard setting.eta.isFinite, abs(setting.eta) <= 1 else { throw .etaOutOfRange(setting.eta) }
        for t in setting.targets where !(t.isFinite && t >= outputs.lower && t <= outputs.upper) {
            throw .targetOutOfRange(value: t, lower: outputs.lower, upper: outputs.upper)
        }
    }

    public static func check(_ schedule: ContrastiveSchedule, maxLearnSeconds: Double) throws(ContrastiveRequestError) {
        if let why = schedule.problem(maxLearnSeconds: maxLearnSeconds) { throw .invalidSchedule(why) }
    }

    public static func check(_ dataset: ContrastiveDataset, descriptor: SubstrateDescriptor) throws(ContrastiveRequestError) {
        if let why = dataset.problem(inputs: descriptor.inputs, outputs: descriptor.outputs) { throw .invalidDataset(why) }
    }
}
