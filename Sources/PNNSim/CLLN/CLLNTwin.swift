import Foundation
import PNNCore

/// The in-process CLLN device: a `Substrate` with the `Clampable`, `NodeReadout`,
/// `SelfLearning` and `OnBoardTraining` capabilities, wrapping a `CLLNNetwork`. Trainers,
/// calibration and the emulator drive it exactly as they drive a board.
///
/// Device-side defence, like careful firmware: every value received is re-checked against
/// the declared ranges (gates in [0, G_max], sources in [0, 1] V, |η| ≤ 1, learning time);
/// a refused value throws and counts in `violations`, and nothing of it is applied.
public actor CLLNTwin: Substrate, Clampable, NodeReadout, SelfLearning, OnBoardTraining {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let topology: NetworkTopology
    public nonisolated let maxLearnSeconds: Double = 100
    /// The twin computes on its own serial queue, not on Swift's cooperative pool: a long
    /// schedule (seconds of Newton solves) must not starve other tasks of the process
    /// (link timers, progress, the emulator's server) on a 2-core machine.
    private nonisolated let executor = ComputeExecutor(label: "pnnlab.clln-twin")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var network: CLLNNetwork
    private var noise: SeededRandom
    /// Values refused by the device-side checks.
    public private(set) var violations = 0
    /// Learning steps taken (learn calls and schedule steps).
    public private(set) var learnSteps = 0

    /// A board wired as `topology` with per-edge A0 and B drawn from `seed`.
    public init(
        topology: NetworkTopology = .periodicLattice(), physics: CLLNPhysics = CLLNPhysics(), seed: UInt64 = 1,
        serial: String? = nil
    ) throws(CLLNError) {
        try self.init(
            state: CLLNState(topology: try topology.validated(), physics: physics, seed: seed), serial: serial ?? "sim-\(seed)",
            seed: seed)
    }

    /// A board restored from an exported state.
    public init(state: CLLNState, serial: String, seed: UInt64 = 1) throws(CLLNError) {
        network = try CLLNNetwork(state: state)
        topology = state.topology
        noise = SeededRandom.derived(seed: seed, stream: 0x401_5E)
        descriptor = Self.descriptor(state: state, serial: serial, model: "clln-twin")
    }

    /// The descriptor a CLLN board with this state reports.
    public static func descriptor(state: CLLNState, serial: String, model: String) -> SubstrateDescriptor {
        let t = state.topology
        return SubstrateDescriptor(
            identity: DeviceIdentity(family: "clln", model: model, serial: serial, firmware: "twin-1"),
            parameters: ParameterSpace(
                count: t.trainableEdges.count, lower: 0, upper: state.physics.gateMax, resolution: 1e-3, unit: .volt,
                naming: .indexed(prefix: "G")),
            inputs: ChannelSpace(count: t.inputNodes.count, lower: 0, upper: 1, resolution: 0, unit: .volt),
            outputs: ChannelSpace(count: t.outputs.count, lower: -1, upper: 1, resolution: state.physics.adcStep, unit: .volt),
            capabilities: [.clampable, .selfLearning, .nodeReadout, .resettable], maxBatch: 256)
    }

    /// The full state (hidden A0 and B included), for independent checks and calibration reports.
    public func exportState() -> CLLNState { network.state }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) throws(CLLNError) -> [Double] {
        guard targets.count == descriptor.parameters.count else {
            throw refuse(.wrongCount(what: "gate voltages", expected: descriptor.parameters.count, got: targets.count))
        }
        for (i, g) in targets.enumerated() where !(g.isFinite && g >= 0 && g <= network.state.physics.gateMax) {
            throw refuse(.gateOutOfRange(edge: topology.trainableEdges[i], value: g, max: network.state.physics.gateMax))
        }
        network.setGates(targets)
        return network.trainableGates
    }

    public func readParameters() -> [Double] { network.trainableGates }

    public func uncheckedMeasure(_ inputs: Matrix) throws(CLLNError) -> Matrix {
        var out = Matrix(rows: inputs.rows, cols: topology.outputs.count)
        for r in 0..<inputs.rows {
            try checkSources(inputs.row(r))
            network.setSources(inputs.row(r))
            let o = network.freeOutputs()
            for c in 0..<o.count { out[r, c] = read(o[c]) }
        }
        return out
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { try await self.runProbe($0) }
    }

    private func runProbe(_ probe: Probe) throws -> ProbeResult {
        let saved = network.trainableGates
        var changed = saved
        for c in probe.changes { changed[c.index] = c.value }
        _ = try uncheckedProgram(changed)
        defer { network.setGates(saved) }
        var sum = Matrix(rows: probe.inputs.rows, cols: topology.outputs.count)
        for _ in 0..<probe.repeats {
            let m = try uncheckedMeasure(probe.inputs)
            for i in sum.storage.indices { sum.storage[i] += m.storage[i] / Double(probe.repeats) }
        }
        return ProbeResult(id: probe.id, outputs: sum, measurementCount: probe.measurementCount)
    }

    public func enterSafeState() {
        network.setClamp(.free(outputs: topology.outputs.count))
        network.setSources(Array(repeating: 0, count: topology.inputNodes.count))
    }

    // MARK: Capabilities

    public func uncheckedApplyInputs(_ inputs: [Double]) throws(CLLNError) {
        try checkSources(inputs)
        network.setSources(inputs)
    }

    public func uncheckedSetClamp(_ setting: ClampSetting) throws(CLLNError) {
        guard setting.targets.count == topology.outputs.count else {
            throw refuse(.wrongCount(what: "clamp targets", expected: topology.outputs.count, got: setting.targets.count))
        }
        guard setting.eta.isFinite, abs(setting.eta) <= 1, setting.targets.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
            throw refuse(.invalidState("clamp needs |η| ≤ 1 and targets within ±1 V"))
        }
        network.setClamp(setting)
    }

    public func readNodes(_ side: NetworkSide) -> [Double] {
        (side == .free ? network.solveFree() : network.solveClamped()).map(read)
    }

    public func uncheckedLearn(seconds: Double) throws(CLLNError) {
        guard seconds.isFinite, seconds >= 0, seconds <= maxLearnSeconds else {
            throw refuse(.invalidState("learning time \(seconds) s is outside [0, \(maxLearnSeconds)] s"))
        }
        network.learn(seconds: seconds)
        learnSteps += 1
    }

    public nonisolated func uncheckedRunSchedule(_ schedule: ContrastiveSchedule, dataset: ContrastiveDataset)
        -> AsyncThrowingStream<ScheduleRecord, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ScheduleRecord.self)
        let task = Task {
            await self.runScheduleSync(schedule, dataset: dataset) { record in
                if case .terminated = continuation.yield(record) { return false }
                return !Task.isCancelled
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The board firmware's schedule loop: drives PNNCore's `ScheduleMachine` on the
    /// network. `emit` returns false to abort (the clamp is released either way).
    public func runScheduleSync(
        _ schedule: ContrastiveSchedule, dataset: ContrastiveDataset, emit: (ScheduleRecord) -> Bool
    ) {
        var machine = ScheduleMachine(schedule: schedule, dataset: dataset)
        defer { network.setClamp(.free(outputs: topology.outputs.count)) }
        while true {
            switch machine.next() {
            case .evaluate:
                network.setClamp(.free(outputs: topology.outputs.count))
                let outputs = dataset.tasks.map { task in
                    task.points.map { p -> [Double] in
                        network.setSources(p.inputs)
                        return network.freeOutputs().map(read)
                    }
                }
                if !emit(machine.record(outputs: outputs, gates: network.trainableGates)) { return }
            case .trace:
                if !emit(machine.trace(gates: network.trainableGates)) { return }
            case .step(let t, let p):
                network.setSources(dataset.tasks[t].points[p].inputs)
                let plan = machine.plan(outputFree: network.freeOutputs().map(read))
                if let clamp = plan.clamp, plan.seconds > 0 {
                    network.setClamp(clamp)
                    network.learn(seconds: plan.seconds)
                    learnSteps += 1
                }
            case .finished:
                return
            }
        }
    }

    // MARK: Device-side checks

    private func checkSources(_ v: [Double]) throws(CLLNError) {
        guard v.count == topology.inputNodes.count else {
            throw refuse(.wrongCount(what: "source voltages", expected: topology.inputNodes.count, got: v.count))
        }
        for (i, x) in v.enumerated() where !(x.isFinite && x >= 0 && x <= 1) {
            throw refuse(.nonPhysicalVoltage(what: "source \(i)", value: x, lower: 0, upper: 1))
        }
    }

    private func refuse(_ e: CLLNError) -> CLLNError {
        violations += 1
        return e
    }

    /// A node read: read noise, then ADC quantisation.
    private func read(_ v: Double) -> Double {
        let p = network.state.physics
        var x = v
        if p.readNoise > 0 { x += p.readNoise * noise.normal() }
        if p.adcStep > 0 { x = (x / p.adcStep).rounded() * p.adcStep }
        return x
    }
}
