import Foundation
import PNNCore

/// A plain linear resistor network with twin free/clamped copies but no learning rule:
/// the parameters are the edge conductances K (siemens), the capabilities `clampable` and
/// `nodeReadout` only. Contrastive methods on it run the host-computed coupled-learning
/// update (DESIGN.md "Host-computed Coupled Learning").
public actor ResistorNetworkTwin: Substrate, Clampable, NodeReadout {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let topology: NetworkTopology
    private var network: CLLNNetwork
    public private(set) var violations = 0

    /// A network wired as `topology` with conductances drawn uniformly from `conductanceRange`.
    public init(topology: NetworkTopology = .periodicLattice(), seed: UInt64 = 1, conductanceRange: ClosedRange<Double>)
        throws(CLLNError)
    {
        let valid = try topology.validated()
        guard conductanceRange.lowerBound > 0 else {
            throw .invalidState("conductance range must be positive (got \(conductanceRange))")
        }
        var state = CLLNState(topology: valid, physics: .ideal, seed: seed)
        var rng = SeededRandom.derived(seed: seed, stream: 0x4E5)
        let span = conductanceRange.upperBound - conductanceRange.lowerBound
        state.conductances = valid.edges.map {
            $0.trainable ? conductanceRange.lowerBound + span * (0.25 + 0.5 * rng.uniform()) : state.physics.fixedConductance
        }
        network = try CLLNNetwork(state: state)
        self.topology = valid
        descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(
                family: "resistor-network", model: "resistor-twin", serial: "sim-\(seed)", firmware: "twin-1"),
            parameters: ParameterSpace(
                count: valid.trainableEdges.count, lower: conductanceRange.lowerBound, upper: conductanceRange.upperBound,
                resolution: 0, unit: .siemens, naming: .indexed(prefix: "K")),
            inputs: ChannelSpace(count: valid.inputNodes.count, lower: 0, upper: 1, resolution: 0, unit: .volt),
            outputs: ChannelSpace(count: valid.outputs.count, lower: -1, upper: 1, resolution: 0, unit: .volt),
            capabilities: [.clampable, .nodeReadout], maxBatch: 256)
    }

    public func uncheckedProgram(_ targets: [Double]) throws(CLLNError) -> [Double] {
        let p = descriptor.parameters
        guard targets.count == p.count else {
            throw refuse(.wrongCount(what: "conductances", expected: p.count, got: targets.count))
        }
        for (i, k) in targets.enumerated() where !(k.isFinite && k >= p.lower[i] && k <= p.upper[i]) {
            throw refuse(.invalidState("conductance \(k) S of edge \(topology.trainableEdges[i]) is outside its window"))
        }
        network.setConductances(targets)
        return readParameters()
    }

    public func readParameters() -> [Double] {
        let all = network.state.conductances ?? []
        return topology.trainableEdges.map { all[$0] }
    }

    public func uncheckedMeasure(_ inputs: Matrix) throws(CLLNError) -> Matrix {
        var out = Matrix(rows: inputs.rows, cols: topology.outputs.count)
        for r in 0..<inputs.rows {
            try uncheckedApplyInputs(inputs.row(r))
            let o = network.freeOutputs()
            for c in o.indices { out[r, c] = o[c] }
        }
        return out
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { probe in
            let outputs = try await self.uncheckedMeasure(probe.inputs)
            return ProbeResult(id: probe.id, outputs: outputs, measurementCount: probe.measurementCount)
        }
    }

    public func enterSafeState() {
        network.setClamp(.free(outputs: topology.outputs.count))
        network.setSources(Array(repeating: 0, count: topology.inputNodes.count))
    }

    public func uncheckedApplyInputs(_ inputs: [Double]) throws(CLLNError) {
        guard inputs.count == topology.inputNodes.count, inputs.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
            throw refuse(
                .nonPhysicalVoltage(what: "a source", value: inputs.first { !($0 >= 0 && $0 <= 1) } ?? .nan, lower: 0, upper: 1))
        }
        network.setSources(inputs)
    }

    public func uncheckedSetClamp(_ setting: ClampSetting) throws(CLLNError) {
        guard setting.targets.count == topology.outputs.count, abs(setting.eta) <= 1 else {
            throw refuse(.invalidState("clamp needs one target per output and |η| ≤ 1"))
        }
        network.setClamp(setting)
    }

    public func readNodes(_ side: NetworkSide) -> [Double] {
        side == .free ? network.solveFree() : network.solveClamped()
    }

    private func refuse(_ e: CLLNError) -> CLLNError {
        violations += 1
        return e
    }
}
