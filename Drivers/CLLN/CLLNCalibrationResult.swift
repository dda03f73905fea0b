import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// What the CLLN procedure measured, per trainable edge (parameter order).
public struct CLLNCalibrationResult: Sendable, Codable, Equatable {
    /// Learning rate A0, 1/(V·s) (seed appendix C: imposed voltages, measured ΔG).
    public var learningRates: [Double]
    /// Bias B from the same regression's intercept, V/s.
    public var biasIntercept: [Double]
    /// Bias B from drift along solution lines (seed appendix E), V/s.
    public var biasDrift: [Double]
    /// RMS residual of the appendix-C fit, V/s.
    public var fitResidual: Double
    /// Per edge: the learning signal ΔV_F² − ΔV_C² reached at least 1e-4 V² in some trial,
    /// so A0 is determined (edges far from the outputs barely see the clamp).
    public var determined: [Bool]
    /// Per edge: the gate stayed clear of 0 and G_max through the drift window of at least
    /// one appendix-E task, so the drift estimate of B is determined (a gate resting on a
    /// limit does not drift).
    public var biasDriftDetermined: [Bool]
    /// The gate voltage every edge was set to before each trial and task, volts (the known
    /// state the procedure starts from; the board's own gates are put back afterwards);
    /// nil in version-1 profiles, which started from whatever the board held.
    public var referenceGate: Double?
    /// Why the result may be doubtful (empty: nothing found).
    public var warnings: [String]
    /// Trials and tasks used.
    public var trials: Int
    public var driftTasks: Int
    /// The board's wiring and largest gate voltage, and the gates it held (parameter order,
    /// volts; put back after the calibration): what a twin built from the profile starts
    /// from. nil in profiles before version 3.
    public var topology: NetworkTopology?
    public var gateMax: Double?
    /// B per edge a twin built from the profile uses, V/s: the inverse-variance mean of the
    /// appendix-C and appendix-E estimates (each variance from its own fit's residuals).
    public var biasTwin: [Double]?
    public var gates: [Double]?
    /// Standard deviation of one output read, volts (pooled over the held-out repeats; 0 on a
    /// noise-free board).
    public var outputNoise: Double?
    /// Twin fidelity (DESIGN.md "Calibration"): RMS(twin-predicted − measured outputs) over the
    /// held-out trials, divided by `outputNoise` floored at ``CLLNCalibration/noiseFloor``;
    /// the same for the forward reads alone (before each trial's learning step) and for a
    /// nominal twin (mean A0 of the seed's board, no bias) — what the calibration is worth.
    public var twinFidelity: Double?
    public var twinFidelityForward: Double?
    public var twinFidelityNominal: Double?
    /// RMS(twin-predicted − measured outputs), volts, calibrated twin and nominal twin.
    public var twinErrorRMS: Double?
    public var twinErrorRMSNominal: Double?
    /// Held-out trials and repeated reads per trial and stage behind the fidelity.
    public var fidelityTrials: Int?
    public var fidelityRepeats: Int?
    /// Learning time the calibration switched on, seconds (what it cost the board).
    public var learningSeconds: Double?

    public init(
        learningRates: [Double], biasIntercept: [Double], biasDrift: [Double], fitResidual: Double, determined: [Bool],
        biasDriftDetermined: [Bool], referenceGate: Double?, warnings: [String], trials: Int, driftTasks: Int
    ) {
        self.learningRates = learningRates
        self.biasIntercept = biasIntercept
        self.biasDrift = biasDrift
        self.fitResidual = fitResidual
        self.determined = determined
        self.biasDriftDetermined = biasDriftDetermined
        self.referenceGate = referenceGate
        self.warnings = warnings
        self.trials = trials
        self.driftTasks = driftTasks
    }

    private enum CodingKeys: String, CodingKey {
        case learningRates, biasIntercept, biasDrift, fitResidual, determined, biasDriftDetermined, referenceGate
        case warnings, trials, driftTasks, topology, biasTwin, gateMax, gates, outputNoise, twinFidelity, twinFidelityForward
        case twinFidelityNominal, twinErrorRMS = "twinErrorRms", twinErrorRMSNominal = "twinErrorRmsNominal"
        case fidelityTrials, fidelityRepeats, learningSeconds
    }

    /// Version-1 profiles have no drift mask, reference gate or warnings: every drift
    /// estimate counts as determined, the reference is unknown. Profiles before version 3
    /// have no wiring, gates or twin fidelity.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        learningRates = try c.decode([Double].self, forKey: .learningRates)
        biasIntercept = try c.decode([Double].self, forKey: .biasIntercept)
        biasDrift = try c.decode([Double].self, forKey: .biasDrift)
        fitResidual = try c.decode(Double.self, forKey: .fitResidual)
        determined = try c.decode([Bool].self, forKey: .determined)
        biasDriftDetermined =
            try c.decodeIfPresent([Bool].self, forKey: .biasDriftDetermined)
            ?? Array(repeating: true, count: biasDrift.count)
        referenceGate = try c.decodeIfPresent(Double.self, forKey: .referenceGate)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
        trials = try c.decode(Int.self, forKey: .trials)
        driftTasks = try c.decode(Int.self, forKey: .driftTasks)
        topology = try c.decodeIfPresent(NetworkTopology.self, forKey: .topology)
        biasTwin = try c.decodeIfPresent([Double].self, forKey: .biasTwin)
        gateMax = try c.decodeIfPresent(Double.self, forKey: .gateMax)
        gates = try c.decodeIfPresent([Double].self, forKey: .gates)
        outputNoise = try c.decodeIfPresent(Double.self, forKey: .outputNoise)
        twinFidelity = try c.decodeIfPresent(Double.self, forKey: .twinFidelity)
        twinFidelityForward = try c.decodeIfPresent(Double.self, forKey: .twinFidelityForward)
        twinFidelityNominal = try c.decodeIfPresent(Double.self, forKey: .twinFidelityNominal)
        twinErrorRMS = try c.decodeIfPresent(Double.self, forKey: .twinErrorRMS)
        twinErrorRMSNominal = try c.decodeIfPresent(Double.self, forKey: .twinErrorRMSNominal)
        fidelityTrials = try c.decodeIfPresent(Int.self, forKey: .fidelityTrials)
        fidelityRepeats = try c.decodeIfPresent(Int.self, forKey: .fidelityRepeats)
        learningSeconds = try c.decodeIfPresent(Double.self, forKey: .learningSeconds)
    }
}

/// Errors of a calibration against a known truth (a twin's or an emulator's hidden state).
public struct CLLNCalibrationComparison: Sendable, Codable, Equatable {
    /// RMS relative error of A0.
    public var learningRateRelativeRMS: Double
    /// RMS error of B, V/s: intercept estimate and drift estimate.
    public var biasInterceptRMS: Double
    public var biasDriftRMS: Double
    /// RMS of the true B, V/s (the scale the errors compare with).
    public var biasScaleRMS: Double
    /// RMS error of the B a twin built from the profile uses, V/s (nil: older profile).
    public var biasTwinRMS: Double?

    /// Edges whose A0 was determined (the A0 error is over these).
    public var determinedEdges: Int

    public init(result: CLLNCalibrationResult, trueLearningRates: [Double], trueBiases: [Double]) {
        func rms(_ x: [Double]) -> Double { sqrt(x.map { $0 * $0 }.reduce(0, +) / Double(max(x.count, 1))) }
        let used = result.learningRates.indices.filter { result.determined[$0] }
        determinedEdges = used.count
        learningRateRelativeRMS = rms(used.map { (result.learningRates[$0] - trueLearningRates[$0]) / trueLearningRates[$0] })
        biasInterceptRMS = rms(zip(result.biasIntercept, trueBiases).map { $0 - $1 })
        biasDriftRMS = rms(zip(result.biasDrift, trueBiases).map { $0 - $1 })
        biasScaleRMS = rms(trueBiases)
        biasTwinRMS = result.biasTwin.map { rms(zip($0, trueBiases).map { $0 - $1 }) }
    }
}

extension CLLNCalibrationResult {
    /// The state of a twin that imitates the calibrated board: its wiring and gate range, the
    /// gates it held, per edge the fitted A0 (the mean of the determined edges where A0 was
    /// not determined) and B (``biasTwin``: the inverse-variance mean of the
    /// appendix-C and appendix-E estimates); the transistor constants the calibration does not measure are
    /// the nominal ones (DESIGN.md "CLLN board"). `nominal`: the seed's mean A0 on every
    /// edge and no bias instead — the twin one would use without a calibration.
    public func twinState(readNoise: Double = 0, nominal: Bool = false) throws(CLLNError) -> CLLNState {
        guard let topology, let gates, let gateMax else {
            throw .invalidState(
                "the profile holds no board wiring or gates (procedure version 2 or older); calibrate the board again")
        }
        var physics = CLLNPhysics()
        physics.gateMax = gateMax
        physics.readNoise = readNoise
        physics.initialGate = min(physics.initialGate, gateMax)
        var state = CLLNState(topology: topology, physics: physics, seed: 0)
        let trainable = topology.trainableEdges
        guard trainable.count == learningRates.count, gates.count == trainable.count,
            biasDrift.count == trainable.count, biasIntercept.count == trainable.count
        else {
            throw .wrongCount(what: "profile values per trainable edge", expected: trainable.count, got: learningRates.count)
        }
        let known = learningRates.indices.filter { determined[$0] && learningRates[$0] > 0 }
        let meanA0 = known.isEmpty ? physics.learningRate : known.map { learningRates[$0] }.reduce(0, +) / Double(known.count)
        state.learningRates = state.learningRates.map { _ in 0 }
        state.biases = state.biases.map { _ in 0 }
        for (p, e) in trainable.enumerated() {
            state.gates[e] = min(max(gates[p], 0), gateMax)
            if nominal {
                state.learningRates[e] = physics.learningRate
                continue
            }
            let a0 = known.contains(p) ? learningRates[p] : meanA0
            state.learningRates[e] = min(max(a0, 0), CLLNState.maximumLearningRate)
            let fromDrift = biasDriftDetermined.indices.contains(p) && biasDriftDetermined[p]
            let b = biasTwin?.count == trainable.count ? biasTwin![p] : (fromDrift ? biasDrift[p] : biasIntercept[p])
            state.biases[e] = min(max(b, -CLLNState.maximumBias), CLLNState.maximumBias)
        }
        return try state.validated()
    }
}
