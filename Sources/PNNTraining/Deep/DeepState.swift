import PNNCore

/// Everything needed to continue a deep run after its last committed step. Saved as the
/// step's checkpoint JSON; the parameters themselves are the step's parameter snapshot (all
/// units concatenated) and are not repeated here.
public struct DeepState: Sendable, Codable, Equatable {
    /// Epochs completed.
    public var epoch: Int
    /// Committed steps (one per epoch, plus the deployment of an in-silico run).
    public var globalStep: Int
    /// Parameter targets of each unit.
    public var theta: [[Double]]
    /// Adam moments of each unit.
    public var adam: [AdamState]
    public var rng: SeededRandom
    /// Input vectors applied to the devices since the run started, all units together.
    public var cumulativeMeasurements: Int
    /// The same, per unit.
    public var unitMeasurements: [Int]
    /// Of `cumulativeMeasurements`, those spent measuring accuracy (both splits through the
    /// cascade), not training.
    public var evaluationMeasurements: Int = 0
    /// Wall seconds of committed steps.
    public var wallSeconds: Double
    /// Latest evaluation on the devices.
    public var lastTrainAccuracy: Double?
    public var lastTestAccuracy: Double?
    public var lastLoss: Double?
    /// Latest evaluation of the units' ideal models at the parameter targets (in-silico runs:
    /// the simulated accuracy before deployment, the other side of the sim-to-real gap).
    public var modelTrainAccuracy: Double?
    public var modelTestAccuracy: Double?
    /// In-silico runs: the trained parameters have been programmed and measured.
    public var deployed: Bool
    /// PIB runs: the unit the last step trained, and its objective's terms on the step's
    /// batches (mean, bits): a point of the information plane (nil for the last unit,
    /// which trains on cross-entropy).
    public var pibUnit: Int?
    public var iXZ: Double?
    public var iYZ: Double?
    /// PIB runs: the measured inputs of the unit being trained (training split), and which
    /// unit they drive. Not checkpointed: a resumed run measures them again.
    public var phaseInputs: Matrix?
    public var phaseUnit: Int?
    /// Parallel PIB: each hidden unit's information terms on the last step (bits, in unit
    /// order), and the inputs the initialisation pass measured for them (not checkpointed:
    /// a resumed run measures them again).
    public var unitIXZ: [Double]?
    public var unitIYZ: [Double]?
    public var parallelInputs: [Matrix]?

    enum CodingKeys: String, CodingKey {
        case epoch, globalStep, adam, rng, cumulativeMeasurements, unitMeasurements, evaluationMeasurements, wallSeconds
        case lastTrainAccuracy, lastTestAccuracy, lastLoss, modelTrainAccuracy, modelTestAccuracy, deployed
        case pibUnit, iXZ, iYZ, unitIXZ, unitIYZ
    }

    public init(theta: [[Double]], rng: SeededRandom) {
        epoch = 0
        globalStep = 0
        self.theta = theta
        adam = theta.map { AdamState(count: $0.count) }
        self.rng = rng
        cumulativeMeasurements = 0
        unitMeasurements = [Int](repeating: 0, count: theta.count)
        wallSeconds = 0
        deployed = false
    }

    /// Decodes a checkpoint; `theta` is filled in from the step's parameter snapshot with
    /// `withParameters`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        globalStep = try c.decode(Int.self, forKey: .globalStep)
        adam = try c.decode([AdamState].self, forKey: .adam)
        rng = try c.decode(SeededRandom.self, forKey: .rng)
        cumulativeMeasurements = try c.decode(Int.self, forKey: .cumulativeMeasurements)
        unitMeasurements = try c.decode([Int].self, forKey: .unitMeasurements)
        evaluationMeasurements = try c.decodeIfPresent(Int.self, forKey: .evaluationMeasurements) ?? 0
        wallSeconds = try c.decode(Double.self, forKey: .wallSeconds)
        lastTrainAccuracy = try c.decodeIfPresent(Double.self, forKey: .lastTrainAccuracy)
        lastTestAccuracy = try c.decodeIfPresent(Double.self, forKey: .lastTestAccuracy)
        lastLoss = try c.decodeIfPresent(Double.self, forKey: .lastLoss)
        modelTrainAccuracy = try c.decodeIfPresent(Double.self, forKey: .modelTrainAccuracy)
        modelTestAccuracy = try c.decodeIfPresent(Double.self, forKey: .modelTestAccuracy)
        deployed = try c.decode(Bool.self, forKey: .deployed)
        pibUnit = try c.decodeIfPresent(Int.self, forKey: .pibUnit)
        iXZ = try c.decodeIfPresent(Double.self, forKey: .iXZ)
        iYZ = try c.decodeIfPresent(Double.self, forKey: .iYZ)
        unitIXZ = try c.decodeIfPresent([Double].self, forKey: .unitIXZ)
        unitIYZ = try c.decodeIfPresent([Double].self, forKey: .unitIYZ)
        theta = []
    }

    /// All units' parameters in one vector (the step's parameter snapshot).
    public var flatParameters: [Double] { theta.flatMap { $0 } }

    /// This checkpoint with the parameters split back into units of the given sizes; nil when
    /// the snapshot does not have their total.
    public func withParameters(_ flat: [Double], sizes: [Int]) -> DeepState? {
        guard flat.count == sizes.reduce(0, +), sizes.count == adam.count else { return nil }
        var out = self
        out.theta = []
        var start = 0
        for n in sizes {
            out.theta.append(Array(flat[start..<(start + n)]))
            start += n
        }
        return out
    }
}
