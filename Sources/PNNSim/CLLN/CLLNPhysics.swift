import PNNCore

/// Constants of a CLLN board (DESIGN.md "CLLN board"; seed 002 eq. 2–3 and appendix C).
///
/// Edge conductance K = S (G − V_T − V̄) above threshold, a transistor that is off below
/// it (plus a tiny leakage so Kirchhoff's law stays solvable); gate voltages G held on
/// capacitors in [0, G_max]; learning dG/dt = A0 (ΔV_F² − ΔV_C²) + B per edge.
public struct CLLNPhysics: Sendable, Codable, Equatable {
    /// S, 1/(V·Ω).
    public var s: Double
    /// Threshold voltage V_T, volts.
    public var thresholdVoltage: Double
    /// Largest gate voltage G_max, volts (G is bounded to [0, G_max]).
    public var gateMax: Double
    /// Leakage of an off transistor, siemens.
    public var offConductance: Double
    /// Width of the smooth turn-on at threshold, volts (softplus).
    public var turnOnWidth: Double
    /// Conductance of fixed (non-learning) edges, siemens.
    public var fixedConductance: Double
    /// The rails V+ and V−, volts.
    public var vPlus: Double
    public var vMinus: Double
    /// Mean learning rate A0, 1/(V·s) (seed: 1.4–2.5 per V·ms).
    public var learningRate: Double
    /// Relative spread (σ) of A0 from edge to edge.
    public var learningRateSpread: Double
    /// σ of the per-edge learning bias B, V/s (0: no bias).
    public var biasScale: Double
    /// Node read noise, V rms (applied to reads, not to the physics).
    public var readNoise: Double
    /// ADC step of node reads, volts (0: no quantisation).
    public var adcStep: Double
    /// Gate voltage every trainable edge starts from, volts.
    public var initialGate: Double

    public init(
        s: Double = 8e-4, thresholdVoltage: Double = 0.7, gateMax: Double = 5, offConductance: Double = 1e-9,
        turnOnWidth: Double = 1e-3, fixedConductance: Double = 1.0 / 600, vPlus: Double = 0.435, vMinus: Double = 0.018,
        learningRate: Double = 2000, learningRateSpread: Double = 0.1, biasScale: Double = 2, readNoise: Double = 0,
        adcStep: Double = 0, initialGate: Double = 3
    ) {
        self.s = s
        self.thresholdVoltage = thresholdVoltage
        self.gateMax = gateMax
        self.offConductance = offConductance
        self.turnOnWidth = turnOnWidth
        self.fixedConductance = fixedConductance
        self.vPlus = vPlus
        self.vMinus = vMinus
        self.learningRate = learningRate
        self.learningRateSpread = learningRateSpread
        self.biasScale = biasScale
        self.readNoise = readNoise
        self.adcStep = adcStep
        self.initialGate = initialGate
    }

    /// No bias, no spread of A0, no read noise: the "perfect" network of the seed.
    public static var ideal: CLLNPhysics { CLLNPhysics(learningRateSpread: 0, biasScale: 0) }

    /// Why these constants are not physical, or nil.
    func problem() -> String? {
        let positive: [(String, Double)] = [
            ("S", s), ("G_max", gateMax), ("off conductance", offConductance), ("turn-on width", turnOnWidth),
            ("fixed conductance", fixedConductance), ("A0", learningRate),
        ]
        for (name, v) in positive where !(v.isFinite && v > 0) { return "\(name) = \(v) must be positive" }
        let nonNegative: [(String, Double)] = [
            ("A0 spread", learningRateSpread), ("bias scale", biasScale), ("read noise", readNoise), ("ADC step", adcStep),
        ]
        for (name, v) in nonNegative where !(v.isFinite && v >= 0) { return "\(name) = \(v) must be ≥ 0" }
        guard vPlus.isFinite, vMinus.isFinite, vPlus > vMinus, vMinus >= 0 else {
            return "rails V+ = \(vPlus) V, V− = \(vMinus) V must satisfy 0 ≤ V− < V+"
        }
        guard initialGate >= 0, initialGate <= gateMax else { return "initial gate \(initialGate) V is outside [0, G_max]" }
        return nil
    }
}

/// Refusals and failures of the CLLN twin, phrased for the person at the bench.
public enum CLLNError: Error, Equatable, CustomStringConvertible {
    case floatingNode(Int)
    case noPathToOutputs(output: Int)
    case badEdge(index: Int, reason: String)
    case gateOutOfRange(edge: Int, value: Double, max: Double)
    case nonPhysicalVoltage(what: String, value: Double, lower: Double, upper: Double)
    case wrongCount(what: String, expected: Int, got: Int)
    case invalidState(String)
    case notConverged(iterations: Int)
    case tooLarge(what: String, count: Int, limit: Int)

    public var description: String {
        switch self {
        case .floatingNode(let n):
            return "graph: node \(n) is floating (no edge touches it); every node must be wired"
        case .noPathToOutputs(let o):
            return "graph: output node \(o) has no path through the edges to any input node"
        case .badEdge(let i, let reason):
            return "graph: edge \(i) \(reason)"
        case .gateOutOfRange(let e, let v, let max):
            return "gate voltage of edge \(e) is \(v) V, outside [0, \(max)] V"
        case .nonPhysicalVoltage(let what, let v, let lo, let hi):
            return "\(what) = \(v) V is not physical here (allowed [\(lo), \(hi)] V)"
        case .wrongCount(let what, let expected, let got):
            return "\(what): expected \(expected) values, got \(got)"
        case .invalidState(let why):
            return "CLLN state: \(why)"
        case .tooLarge(let what, let count, let limit):
            return "graph: \(count) \(what) is more than the simulator handles (at most \(limit))"
        case .notConverged(let n):
            return "Kirchhoff solve did not converge in \(n) Newton iterations"
        }
    }
}
