import PNNCore

/// The training methods `pnnlab train --method` accepts.
public enum TrainingMethod: String, Sendable, Codable, CaseIterable {
    /// Mode A: finite-difference Jacobian, Δθ = −η Jᵀ ∂L/∂y.
    case gradient
    /// Mode B: finite-difference Jacobian, Δθ = η J⁺ e (damped least squares or truncated SVD).
    case gaussNewton = "gauss-newton"
    /// Simultaneous perturbation: 2 measurements per gradient estimate.
    case spsa
    /// The physical projection stays fixed; a digital linear readout is fitted to the
    /// measured outputs (ridge regression, softmax-calibrated). See `ReadoutMethod.swift`.
    case readout
}

/// Every knob of a training run. Decoded from the `[trainer]` table of a config file over
/// these defaults; stored with the run so `--resume` continues with identical settings.
public struct TrainerConfig: Sendable, Codable, Equatable {
    /// Passes over the training split (default depends on the method).
    public var epochs: Int?
    /// Largest number of epochs a run may ask for (far beyond any useful run, far below overflow).
    public static let maxEpochs = 1_000_000
    /// Samples per step (per Jacobian).
    public var batchSize: Int = 32
    /// η; default depends on the method (Mode A 100 µS²·µA, Mode B 0.5, SPSA gain a = 0.02).
    public var learningRate: Double?
    /// Mode B inversion.
    public var solver: PseudoInverseSolver = .damped
    /// λ relative to σ_max² for the damped solver.
    public var damping: Double = 1e-3
    /// Singular-value cutoff relative to σ_max for the SVD solver.
    public var cutoff: Double = 1e-2
    /// Mode B with a softmax readout: logit step toward the labels per update.
    public var logitStep: Double = 2
    public var scheme: DifferenceScheme = .central
    /// Finite-difference step in multiples of the parameter resolution.
    public var stepResolutions: Double = 8
    /// Reads averaged per probe.
    public var repeats: Int = 1
    /// SPSA perturbation c as a fraction of each parameter's range.
    public var spsaPerturbation: Double = 0.02
    public var readout: ReadoutKind = .softmax
    /// Logits per µA of output (softmax readout).
    public var gain: Double = 1
    /// Target output for the correct class, µA (least-squares readout).
    public var targetCurrent: Double = 5
    /// Feature encoding; default depends on the task.
    public var encoding: FeatureEncoding?
    /// Peak input voltage as a fraction of the device's safe input range.
    public var inputAmplitude: Double = 0.8
    /// Fraction of each class held out for testing.
    public var testFraction: Double = 0.3
    /// Evaluate train and test accuracy every this many epochs (always after the last).
    public var evaluateEvery: Int = 1
    /// Reads averaged per input vector when evaluating accuracy (beats read noise at the
    /// decision boundary; counted in the measurements).
    public var evaluationRepeats: Int = 4
    /// Store every batch's base outputs as a measurement block.
    public var recordOutputs: Bool = true
    /// Train on the first N training samples only (and the first ⌈N/6⌉ test samples).
    public var subset: Int?

    public init() {}

    /// Epochs when none were given.
    public func resolvedEpochs(for method: TrainingMethod) -> Int {
        if let epochs { return epochs }
        switch method {
        case .gaussNewton: return 15
        case .gradient: return 40
        case .spsa: return 150
        case .readout: return 1
        }
    }

    /// η when none was given.
    public func resolvedLearningRate(for method: TrainingMethod) -> Double {
        if let learningRate { return learningRate }
        switch method {
        case .gaussNewton: return 0.5
        case .gradient: return 100
        case .spsa: return 0.02
        case .readout: return 0
        }
    }
}
