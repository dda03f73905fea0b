import Foundation
import PNNCore

/// Settings of the spring-network twin (`sim:spring`): the graph (given, or a generated
/// triangular lattice with seeded dilution), how inputs act, the stiffness window and the
/// displacement read noise.
public struct SpringConfig: Sendable, Codable, Equatable {
    /// How an input channel acts on its degree of freedom.
    public enum InputMode: String, Sendable, Codable, Equatable, CaseIterable {
        /// A force (force units) on the dof; the dof moves freely.
        case force
        /// An imposed displacement (length units) of the dof.
        case displacement
    }

    /// The network; nil = generate a triangular lattice from the settings below.
    public var graph: SpringGraph?
    /// Generated lattice: nodes per row.
    public var width: Int = 12
    /// Generated lattice: rows (the bottom one fixed).
    public var height: Int = 6
    /// Generated lattice: fraction of bonds removed (seeded; never one that makes it floppy).
    public var dilution: Double = 0.1
    /// Input channels of a generated lattice (a given graph says its own).
    public var inputs: Int = 5
    /// Output channels of a generated lattice.
    public var outputs: Int = 3
    public var inputMode: InputMode = .force
    /// Largest |force| (or |displacement|) an input may ask for.
    public var inputLimit: Double = 1
    /// Safe stiffness window [min, max], force per length.
    public var stiffnessMin: Double = 0.1
    public var stiffnessMax: Double = 2
    /// Programming resolution of a stiffness (values are set on this grid from the minimum).
    public var stiffnessResolution: Double = 1e-3
    /// Standard deviation of the read noise of every output displacement (length units).
    public var noise: Double = 1e-4
    /// Seed of the lattice, the initial stiffnesses and the read noise.
    public var seed: UInt64 = 1

    public init() {}

    /// Every key a `[twin]` table of `sim:spring` may contain.
    public static let knownKeys: Set<String> = [
        "graph", "width", "height", "dilution", "inputs", "outputs", "input_mode", "input_limit", "stiffness_min",
        "stiffness_max", "stiffness_resolution", "noise", "seed",
    ]

    /// Checks every setting, naming the first one that cannot be used.
    public func validated() throws(SpringError) -> SpringConfig {
        guard inputs >= 1, inputs <= 256 else { throw .invalidSetting("inputs must be 1…256 (got \(inputs))") }
        guard outputs >= 1, outputs <= 256 else { throw .invalidSetting("outputs must be 1…256 (got \(outputs))") }
        guard inputLimit.isFinite, inputLimit > 0, inputLimit <= 1e3 else {
            throw .invalidSetting("input limit must lie in (0, 1000] (got \(inputLimit))")
        }
        guard stiffnessMin.isFinite, stiffnessMax.isFinite, stiffnessMin > 0, stiffnessMax > stiffnessMin,
            stiffnessMax <= 1e6
        else {
            throw .invalidSetting("stiffness window must satisfy 0 < min < max ≤ 1e6 (got [\(stiffnessMin), \(stiffnessMax)])")
        }
        guard stiffnessResolution.isFinite, stiffnessResolution >= 0, stiffnessResolution < stiffnessMax - stiffnessMin
        else {
            throw .invalidSetting("stiffness resolution must lie in [0, max − min) (got \(stiffnessResolution))")
        }
        guard noise.isFinite, noise >= 0, noise <= 1e3 else {
            throw .invalidSetting("noise must lie in [0, 1000] (got \(noise))")
        }
        return self
    }

    /// The graph these settings describe: the given one (validated), or the generated lattice.
    public func resolvedGraph() throws(SpringError) -> SpringGraph {
        if let graph { return try graph.validated() }
        return try SpringGraph.triangularLattice(
            width: width, height: height, dilution: dilution, inputs: inputs, outputs: outputs, seed: seed)
    }

    enum CodingKeys: String, CodingKey {
        case graph, width, height, dilution, inputs, outputs, noise, seed
        case inputMode = "input_mode"
        case inputLimit = "input_limit"
        case stiffnessMin = "stiffness_min"
        case stiffnessMax = "stiffness_max"
        case stiffnessResolution = "stiffness_resolution"
    }

    /// Decodes over the defaults: a missing key keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        graph = try c.decodeIfPresent(SpringGraph.self, forKey: .graph)
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? width
        height = try c.decodeIfPresent(Int.self, forKey: .height) ?? height
        dilution = try c.decodeIfPresent(Double.self, forKey: .dilution) ?? dilution
        inputs = try c.decodeIfPresent(Int.self, forKey: .inputs) ?? inputs
        outputs = try c.decodeIfPresent(Int.self, forKey: .outputs) ?? outputs
        inputMode = try c.decodeIfPresent(InputMode.self, forKey: .inputMode) ?? inputMode
        inputLimit = try c.decodeIfPresent(Double.self, forKey: .inputLimit) ?? inputLimit
        stiffnessMin = try c.decodeIfPresent(Double.self, forKey: .stiffnessMin) ?? stiffnessMin
        stiffnessMax = try c.decodeIfPresent(Double.self, forKey: .stiffnessMax) ?? stiffnessMax
        stiffnessResolution = try c.decodeIfPresent(Double.self, forKey: .stiffnessResolution) ?? stiffnessResolution
        noise = try c.decodeIfPresent(Double.self, forKey: .noise) ?? noise
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
    }
}
