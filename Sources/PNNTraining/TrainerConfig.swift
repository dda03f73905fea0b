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
    /// η; default depends on the method (Mode A 100/gain² µS²·µA, Mode B 0.5, SPSA gain a = 0.02).
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
    /// Gradient and Gauss–Newton: a full finite-difference Jacobian every this many steps, and
    /// rank-one Broyden updates from one base measurement in between (`JacobianCache`). 1 (the
    /// default) estimates it at every step. Above 1 a step uses the whole training split as
    /// its batch, since a Jacobian is only reusable on the inputs it was measured on.
    public var jacobianRefresh: Int = 1
    /// SPSA perturbation c as a fraction of each parameter's range.
    public var spsaPerturbation: Double = 0.02
    public var readout: ReadoutKind = .softmax
    /// Logits per µA of output (softmax readout); nil: `fullScaleLogits` over the device's
    /// output full scale (`resolvedGain`).
    public var gain: Double?
    /// Logits a full-scale output is worth when no gain is given. The softmax loss keeps
    /// asking for larger logits, so the gain decides how hard it pushes differential pairs
    /// towards the conductance window's edges, where clipping distorts every step: 1 logit/µA
    /// was too little on a 5-line Iris array (full scale 18.75 µA; linear encoding 90.2 %
    /// against a 95.6 % ceiling) and too much on a 65-line digits array (243.75 µA). 75 logits
    /// at full scale gives 4.0, 1.33 and 0.31 logits/µA on the 5-, 15- and 65-line arrays
    /// (docs/results.md, "The linear-encoding path").
    public static let fullScaleLogits = 75.0
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
    /// PIB: order α of the matrix Rényi entropy (2: closed form; any other α > 0, α ≠ 1 by
    /// eigen-decomposition). Default 1.01 (≈ Shannon): on digits 32,10 it puts PIB 2.2 points
    /// under the ceiling against 3.5 at α = 2 (docs/results.md).
    public var renyiAlpha: Double = 1.01
    /// Reads averaged per input vector when evaluating accuracy (beats read noise at the
    /// decision boundary; counted in the measurements).
    public var evaluationRepeats: Int = 4
    /// Store every batch's base outputs as a measurement block.
    public var recordOutputs: Bool = true
    /// Store the class-output Jacobian (batch·classes × parameters, output unit per parameter
    /// unit) of the first step of every epoch as a `jacobian` measurement block (gradient and
    /// Gauss–Newton; off by default: a large device's Jacobian is megabytes).
    public var recordJacobians: Bool = false
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

    /// The gain in use on a device whose outputs span ±`outputFullScale` µA (1 when the span
    /// is unknown).
    public func resolvedGain(outputFullScale: Double) -> Double {
        if let gain { return gain }
        guard outputFullScale.isFinite, outputFullScale > 0 else { return 1 }
        return Self.fullScaleLogits / outputFullScale
    }

    /// η when none was given (`gain`: the resolved readout gain).
    public func resolvedLearningRate(for method: TrainingMethod, gain: Double = 1) -> Double {
        if let learningRate { return learningRate }
        switch method {
        case .gaussNewton: return 0.5
        // ∂L/∂y grows with the gain and the loss's curvature in output units with its square,
        // so Mode A's stable step shrinks as 1/gain² (100 at 1 logit/µA).
        case .gradient: return 100 / max(gain * gain, 1e-12)
        case .spsa: return 0.02
        case .readout: return 0
        }
    }
}
