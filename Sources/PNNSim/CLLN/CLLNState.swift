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

    /// This state if it is physical: a valid graph and constants, counts matching the
    /// graph, gates in [0, G_max], finite rates and biases, sources in [0, 1] V.
    public func validated() throws(CLLNError) -> CLLNState {
        _ = try topology.validated()
        if let why = physics.problem() { throw .invalidState(why) }
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
        for (e, v) in zip(learningRates, biases).enumerated() where !(v.0.isFinite && v.0 >= 0 && v.1.isFinite) {
            throw .invalidState("edge \(e) has learning rate \(v.0) and bias \(v.1); both must be finite, A0 ≥ 0")
        }
        for (i, v) in sources.enumerated() where !(v.isFinite && v >= 0 && v <= 1) {
            throw .nonPhysicalVoltage(what: "source \(i)", value: v, lower: 0, upper: 1)
        }
        guard clamp.eta.isFinite, abs(clamp.eta) <= 1, clamp.targets.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
            throw .invalidState("clamp needs |η| ≤ 1 and targets within ±1 V")
        }
        if let k = conductances {
            guard k.count == n else { throw .wrongCount(what: "conductances", expected: n, got: k.count) }
            for (e, v) in k.enumerated() where !(v.isFinite && v > 0) {
                throw .invalidState("edge \(e) has conductance \(v) S; it must be positive")
            }
        }
        return self
    }

    /// Pretty, key-sorted JSON.
    public func exportJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Decodes and validates an exported state.
    public static func importJSON(_ data: Data) throws(CLLNError) -> CLLNState {
        let state: CLLNState
        do {
            state = try JSONDecoder().decode(CLLNState.self, from: data)
        } catch {
            throw .invalidState("not a CLLN state document (\(error))")
        }
        return try state.validated()
    }
}
