import Foundation
import PNNCore

/// The full state of a CLLN twin — wiring, constants, every edge's gate voltage, learning
/// rate A0 and bias B, the held sources and the clamp — exportable as JSON so the physics
/// can be checked independently (and imported back, validated).
public struct CLLNState: Sendable, Codable, Equatable {
    public var topology: NetworkTopology
    public var physics: CLLNPhysics
    /// Gate voltage per edge, volts (ignored for fixed edges).
    public var gates: [Double]
    /// A0 per edge, 1/(V·s) (0 for fixed edges).
    public var learningRates: [Double]
    /// Bias B per edge, V/s (0 for fixed edges).
    public var biases: [Double]
    /// Held input voltages, one per input channel.
    public var sources: [Double]
    public var clamp: ClampSetting
    /// Conductance per edge when the network is a plain (linear) resistor network, siemens;
    /// nil for transistor edges.
    public var conductances: [Double]?

    /// A fresh board: every gate at `physics.initialGate`, seeded per-edge A0 and B, sources
    /// at 0 V, both networks free.
    public init(topology: NetworkTopology, physics: CLLNPhysics, seed: UInt64) {
        self.topology = topology
        self.physics = physics
        var rng = SeededRandom.derived(seed: seed, stream: 0xC11)
        let n = topology.edges.count
        gates = topology.edges.map { $0.trainable ? physics.initialGate : 0 }
        learningRates = (0..<n).map { _ in physics.learningRate * max(0.05, 1 + physics.learningRateSpread * rng.normal()) }
        biases = (0..<n).map { _ in physics.biasScale * rng.normal() }
        for (i, e) in topology.edges.enumerated() where !e.trainable {
            learningRates[i] = 0
            biases[i] = 0
        }
        sources = Array(repeating: 0, count: topology.inputNodes.count)
        clamp = .free(outputs: topology.outputs.count)
        conductances = nil
    }

    /// The largest learning rate A0 a state may hold, 1/(V·s): 500× the seed board's
    /// 2 per V·ms. Faster edges would need more integration substeps than a period allows.
    public static let maximumLearningRate = 1e6
    /// The largest learning bias |B| a state may hold, V/s: 500× the board's σ of 2 V/s
    /// (a gate would cross its whole range in a few milliseconds).
    public static let maximumBias = 1e3

    /// This state if it is physical: a valid graph (at most
    /// ``NetworkTopology/maximumNodes`` nodes and ``NetworkTopology/maximumEdges`` edges)
    /// and constants, counts matching the graph, gates in [0, G_max], A0 in
    /// [0, ``maximumLearningRate``], |B| ≤ ``maximumBias``, sources in [0, 1] V. Sizes are
    /// checked before anything is allocated.
    public func validated() throws(CLLNError) -> CLLNState {
        _ = try topology.validated()
        if let why = physics.problem() ?? Self.magnitudeProblem(physics) { throw .invalidState(why) }
        let n = topology.edges.count
        for (what, values) in [("gates", gates), ("learning rates", learningRates), ("biases", biases)] where values.count != n {
            throw .wrongCount(what: what, expected: n, got: values.count)
        }
        guard sources.count == topology.inputNodes.count else {
            throw .wrongCount(what: "sources", expected: topology.inputNodes.count, got: sources.count)
        }
        guard clamp.targets.count == topology.outputs.count else {
            throw .wrongCount(what: "clamp targets", expected: topology.outputs.count, got: clamp.targets.count)
        }
        for (e, g) in gates.enumerated() where topology.edges[e].trainable && !(g.isFinite && g >= 0 && g <= physics.gateMax) {
            throw .gateOutOfRange(edge: e, value: g, max: physics.gateMax)
        }
        for (e, v) in zip(learningRates, biases).enumerated()
        where !(v.0.isFinite && v.0 >= 0 && v.0 <= Self.maximumLearningRate && v.1.isFinite && abs(v.1) <= Self.maximumBias) {
            throw .invalidState(
                "edge \(e) has learning rate A0 = \(v.0) /(V·s) and bias B = \(v.1) V/s; "
                    + "A0 must be in [0, \(Self.maximumLearningRate)] and |B| ≤ \(Self.maximumBias)")
        }
        for (i, v) in sources.enumerated() where !(v.isFinite && v >= 0 && v <= 1) {
            throw .nonPhysicalVoltage(what: "source \(i)", value: v, lower: 0, upper: 1)
        }
        guard clamp.eta.isFinite, abs(clamp.eta) <= 1, clamp.targets.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
            throw .invalidState("clamp needs |η| ≤ 1 and targets within ±1 V")
        }
        if let k = conductances {
            guard k.count == n else { throw .wrongCount(what: "conductances", expected: n, got: k.count) }
            for (e, v) in k.enumerated() where !(v.isFinite && v >= 1e-12 && v <= 1) {
                throw .invalidState("edge \(e) has conductance \(v) S; it must be between 1 pS and 1 S")
            }
        }
        return self
    }

    /// Why constants that pass ``CLLNPhysics`` checks are still beyond any bench (values
    /// that would overflow the solve or the learning integration), or nil.
    static func magnitudeProblem(_ p: CLLNPhysics) -> String? {
        let bounded: [(String, Double, Double, String)] = [
            ("S", p.s, 1, "1/(V·Ω)"), ("G_max", p.gateMax, 100, "V"), ("off conductance", p.offConductance, 1, "S"),
            ("turn-on width", p.turnOnWidth, 1, "V"), ("fixed conductance", p.fixedConductance, 1, "S"),
            ("V+", p.vPlus, 100, "V"), ("A0", p.learningRate, maximumLearningRate, "/(V·s)"),
            ("A0 spread", p.learningRateSpread, 10, ""), ("bias scale", p.biasScale, maximumBias, "V/s"),
            ("read noise", p.readNoise, 1, "V"), ("ADC step", p.adcStep, 1, "V"),
        ]
        for (name, value, limit, unit) in bounded where !(value <= limit) {
            return "\(name) = \(value)\(unit.isEmpty ? "" : " " + unit) is beyond the physical limit \(limit)"
        }
        guard p.thresholdVoltage.isFinite, abs(p.thresholdVoltage) <= 100 else {
            return "threshold voltage V_T = \(p.thresholdVoltage) V must be within ±100 V"
        }
        return nil
    }

    /// Pretty, key-sorted JSON.
    public func exportJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// A decoding failure as a short phrase naming the field, not the decoder's debug text.
    static func explain(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            let keys = (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the document" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context, key)) is missing"
        case .valueNotFound(_, let context): return "\(path(context)) is null"
        case .typeMismatch(let type, let context):
            return "\(path(context)) is not \(type == Int.self ? "an integer" : "a \(type)")"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)) has an unreadable value"
        @unknown default: return "unreadable"
        }
    }

    /// Decodes and validates an exported state.
    public static func importJSON(_ data: Data) throws(CLLNError) -> CLLNState {
        let state: CLLNState
        do {
            state = try JSONDecoder().decode(CLLNState.self, from: data)
        } catch {
            throw .invalidState("not a CLLN state document (\(Self.explain(error)))")
        }
        return try state.validated()
    }
}
