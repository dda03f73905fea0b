import Foundation
import PNNCore

/// Settings of the continuous-variable photonic twin (`sim:cv-photonic`): the circuit's
/// size, its fixed optics (squeezing, loss) and the detector (shots per read).
///
/// The circuit, in order: every mode starts in vacuum, is squeezed along x by r, then mode
/// j < `inputs` is displaced by the real amplitude α_j (the input line, ⟨x_j⟩ = 2α_j with
/// ħ = 2); a rectangular mesh of `layers` layers of beam splitters (θ, φ) on neighbouring
/// modes, then a phase shifter on every mode, acts on all modes; a uniform pure loss of
/// transmission T follows; modes 0 ..< `readouts` are measured by x homodyne, each read
/// being the mean of `shots` shots. Trainable: every θ, φ and final phase.
///
/// The `multiplier` layout (seed 000's squeezing multiplier, `CVCircuitLayout.multiplier`)
/// instead puts input line 0 on the squeezers and lines 1 … on displacements.
public struct CVPhotonicConfig: Sendable, Codable, Equatable {
    /// Which circuit the twin is (see `CVCircuitLayout`).
    public var layout: CVCircuitLayout = .interferometer
    /// Multiplier layout: squeezing per unit of input line 0 (r_k = r ± κ·u₀, the sign
    /// alternating from mode to mode).
    public var squeezeGain: Double = 0.5
    /// Input lines (displaced modes 0 ..< inputs).
    public var inputs: Int = 4
    /// Output channels (x homodyne on modes 0 ..< readouts).
    public var readouts: Int = 3
    /// Optical modes; at least max(inputs, readouts) (0 = exactly that).
    public var modes: Int = 0
    /// Beam-splitter layers of the rectangular mesh (0 = one per mode, a universal mesh).
    public var layers: Int = 0
    /// Squeezing parameter r of every mode before displacement (0 = coherent inputs).
    public var squeezing: Double = 0
    /// Transmission T of the uniform loss before detection (1 = lossless).
    public var transmission: Double = 0.9
    /// Homodyne shots averaged into one read (the shot-noise variance of a read is V_xx / shots).
    public var shots: Int = 1000
    /// No shot noise: a read returns the exact ⟨x⟩ (an infinite number of shots).
    public var exactMeans: Bool = false
    /// Largest |α| an input line may ask for (the safe input range is [−limit, limit]).
    public var amplitudeLimit: Double = 3
    /// Resolution of every trainable angle, radians (a phase DAC step).
    public var angleResolution: Double = 0.01
    /// Seed of the initial angles and of the shot noise.
    public var seed: UInt64 = 1

    public init() {}

    /// Every key a `[twin]` table of `sim:cv-photonic` may contain.
    public static let knownKeys: Set<String> = [
        "layout", "squeeze_gain", "inputs", "readouts", "modes", "layers", "squeezing", "transmission", "shots", "exact_means",
        "amplitude_limit",
        "angle_resolution", "seed",
    ]

    /// Modes actually simulated (the multiplier's line 0 drives squeezers, not a mode).
    public var modeCount: Int {
        layout == .multiplier ? max(modes, inputs - 1, readouts, 1) : max(modes, inputs, readouts)
    }
    /// Mesh layers actually used.
    public var layerCount: Int { layers > 0 ? layers : modeCount }

    /// Checks every setting, naming the first one that cannot be used.
    public func validated() throws(CVPhotonicError) -> CVPhotonicConfig {
        guard inputs >= 1, inputs <= 256 else { throw .invalidSetting("inputs must be 1…256 (got \(inputs))") }
        guard readouts >= 1, readouts <= 256 else { throw .invalidSetting("readouts must be 1…256 (got \(readouts))") }
        guard modes >= 0, modes <= 256 else { throw .invalidSetting("modes must be 0…256 (got \(modes))") }
        guard layers >= 0, layers <= 1024 else { throw .invalidSetting("layers must be 0…1024 (got \(layers))") }
        guard squeezing.isFinite, abs(squeezing) <= 3 else {
            throw .invalidSetting("squeezing r must be within ±3 (about 26 dB; got \(squeezing))")
        }
        if layout == .multiplier {
            guard inputs >= 2 else {
                throw .invalidSetting(
                    "the multiplier needs at least 2 input lines (squeeze control, displacement; got \(inputs))")
            }
            guard squeezeGain.isFinite, squeezeGain > 0, abs(squeezing) + squeezeGain * amplitudeLimit <= 3 else {
                throw .invalidSetting(
                    "the multiplier's squeezing |r| + κ·amplitude_limit must stay within 3 (about 26 dB; κ = \(squeezeGain), "
                        + "r = \(squeezing), amplitude limit \(amplitudeLimit))")
            }
        }
        guard transmission.isFinite, transmission > 0, transmission <= 1 else {
            throw .invalidSetting("transmission T must lie in (0, 1] (got \(transmission))")
        }
        guard shots >= 1, shots <= 100_000_000 else { throw .invalidSetting("shots must be 1…10⁸ (got \(shots))") }
        guard amplitudeLimit.isFinite, amplitudeLimit > 0, amplitudeLimit <= 100 else {
            throw .invalidSetting("amplitude limit must lie in (0, 100] (got \(amplitudeLimit))")
        }
        guard angleResolution.isFinite, angleResolution > 0, angleResolution < 1 else {
            throw .invalidSetting("angle resolution must lie in (0, 1) rad (got \(angleResolution))")
        }
        return self
    }

    enum CodingKeys: String, CodingKey {
        case layout, inputs, readouts, modes, layers, squeezing, transmission, shots, seed
        case squeezeGain = "squeeze_gain"
        case exactMeans = "exact_means"
        case amplitudeLimit = "amplitude_limit"
        case angleResolution = "angle_resolution"
    }

    /// Decodes over the defaults: a missing key keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        layout = try c.decodeIfPresent(CVCircuitLayout.self, forKey: .layout) ?? layout
        squeezeGain = try c.decodeIfPresent(Double.self, forKey: .squeezeGain) ?? squeezeGain
        inputs = try c.decodeIfPresent(Int.self, forKey: .inputs) ?? inputs
        readouts = try c.decodeIfPresent(Int.self, forKey: .readouts) ?? readouts
        modes = try c.decodeIfPresent(Int.self, forKey: .modes) ?? modes
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
        squeezing = try c.decodeIfPresent(Double.self, forKey: .squeezing) ?? squeezing
        transmission = try c.decodeIfPresent(Double.self, forKey: .transmission) ?? transmission
        shots = try c.decodeIfPresent(Int.self, forKey: .shots) ?? shots
        exactMeans = try c.decodeIfPresent(Bool.self, forKey: .exactMeans) ?? exactMeans
        amplitudeLimit = try c.decodeIfPresent(Double.self, forKey: .amplitudeLimit) ?? amplitudeLimit
        angleResolution = try c.decodeIfPresent(Double.self, forKey: .angleResolution) ?? angleResolution
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
    }
}

/// The two circuits `sim:cv-photonic` can be.
public enum CVCircuitLayout: String, Sendable, Codable, Equatable, CaseIterable {
    /// Displacement-encoded inputs through one trainable mesh: ⟨x⟩ is affine in the inputs
    /// (a linear classifier).
    case interferometer
    /// Seed 000's squeezing multiplier: input line 0 (u₀) sets the squeezing of every mode,
    /// r_k = r ± κ·u₀ (sign alternating with k), lines j ≥ 1 displace mode j − 1 along x;
    /// the circuit is mesh A → squeezers → mesh B (both trainable) → loss → x homodyne.
    /// A squeezer multiplies a displacement's x by e^{−r} and its p by e^{+r}, so
    /// ⟨x_out⟩ = Σ_k (a_k·u + b_k) e^{−κ_k u₀} + (c_k·u + d_k) e^{+κ_k u₀}, with a … d set
    /// by the meshes: mesh angles of π/4 on one mode give −2√T·u·sinh(κ u₀) ≈ −2√T κ·u₀·u.
    /// The product comes from the encoding (u₀ enters through the squeezing); for fixed
    /// u₀ the circuit is still affine in the displacements.
    case multiplier
}

/// Why the CV photonic twin refused a setting, a value or a state file.
public enum CVPhotonicError: Error, Equatable, CustomStringConvertible {
    /// A setting outside what the circuit can be built with.
    case invalidSetting(String)
    /// A list of the wrong length (angles, input lines).
    case wrongCount(what: String, expected: Int, got: Int)
    /// An angle or amplitude outside its safe range, or not a number.
    case outOfRange(what: String, value: Double, lower: Double, upper: Double)
    /// An exported state that cannot be read or does not describe this circuit.
    case badState(String)

    public var description: String {
        switch self {
        case .invalidSetting(let why): "cv-photonic twin: \(why)"
        case .wrongCount(let what, let expected, let got): "cv-photonic twin: \(got) \(what), expected \(expected)"
        case .outOfRange(let what, let value, let lower, let upper):
            "cv-photonic twin: \(what) = \(value) is outside its safe range [\(lower), \(upper)]"
        case .badState(let why): "cv-photonic state: \(why)"
        }
    }
}
