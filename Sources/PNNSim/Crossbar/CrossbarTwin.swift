import Foundation
import PNNCore

/// An in-process memristor crossbar behaving like a board: a `Substrate` wrapping a
/// `CrossbarPhysics`. Trainers and calibration code drive it exactly as they would drive
/// hardware.
///
/// Device-side defence: like careful firmware, the twin re-checks every value it receives
/// against its declared safe ranges (conductance targets within the nominal window, input
/// voltages within ±vReadMax). A refused value throws `CrossbarTwinError` and increments
/// `CrossbarStatistics.violations`, so tests can prove the host never let one through.
public actor CrossbarTwin: Substrate, SaturationReporting {
    /// Identity, parameter space, channels and capabilities (fixed for the twin's life).
    public nonisolated let descriptor: SubstrateDescriptor
    private var physics: CrossbarPhysics
    /// Output readings returned saturated (a column clipped at ±full scale) so far.
    private var saturated = 0

    /// Builds the array described by `config` (default: a realistic 5×3 PCM-like array).
    public init(config: CrossbarConfig = CrossbarConfig()) throws(CrossbarConfigError) {
        self.init(physics: try CrossbarPhysics(config: config))
    }

    /// Wraps an existing physics state (e.g. one prepared by a test).
    public init(physics: CrossbarPhysics) {
        self.physics = physics
        self.descriptor = physics.descriptor
    }

    /// Restores a twin from `exportState()` JSON (validated; see `CrossbarStateError`).
    public init(importing data: Data) throws(CrossbarStateError) {
        self.init(physics: try CrossbarPhysics(importing: data))
    }

    // MARK: Substrate

    /// Program-and-verify every device; returns the verified read-backs, µS.
    public func uncheckedProgram(_ targets: [Double]) throws(CrossbarTwinError) -> [Double] {
        guard targets.count == physics.deviceCount else {
            throw refuse(.wrongParameterCount(expected: physics.deviceCount, got: targets.count))
        }
        for (i, value) in targets.enumerated() { try checkParameter(index: i, value: value) }
        return physics.program(targets)
    }

    /// Noisy reads of every device's conductance, µS.
    public func readParameters() -> [Double] { physics.readConductances() }

    /// Applies each input row (V) and returns the logical outputs (µA).
    public func uncheckedMeasure(_ inputs: Matrix) throws(CrossbarTwinError) -> Matrix {
        guard inputs.rows <= descriptor.maxBatch else { throw .batchTooLarge(got: inputs.rows, max: descriptor.maxBatch) }
        try checkInputs(inputs)
        var flags: [Bool] = []
        let outputs = physics.forward(inputs, saturated: &flags)
        saturated += flags.count { $0 }
        return outputs
    }

    /// Output readings returned saturated so far (a column clipped at ±full scale).
    public func saturatedReadings() -> Int { saturated }

    /// Runs the probes in order on the actor: program-and-verify the changed devices,
    /// measure the inputs `repeats` times and average, restore the previous targets,
    /// yield. All probes are checked before the first one runs. Cancelling the consumer
    /// stops the work after the probe in progress.
    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let task = Task { await self.run(probes, into: continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Records that the inputs are grounded (the physics has nothing to switch off).
    public func enterSafeState() { physics.recordSafeStateEntry() }

    // MARK: Twin extras

    /// Counters so far (pulses, reads, vectors, violations, simulated time, …).
    public func statistics() -> CrossbarStatistics { physics.statistics }

    /// The full physics state as pretty JSON (see `CrossbarPhysics`).
    public func exportState() throws(CrossbarStateError) -> Data { try physics.exportState() }

    /// A copy of the physics state, for tests and calibration reports.
    public func snapshot() -> CrossbarPhysics { physics }

    /// Lets simulated time pass (the devices drift).
    public func advanceTime(seconds: Double) throws(CrossbarTwinError) {
        guard seconds.isFinite, seconds >= 0 else { throw .invalidDuration(seconds) }
        physics.advanceTime(seconds: seconds)
    }

    /// Breaks physical column `column`'s ADC: it reads 0 from now on (a dead column).
    public func breakADC(column: Int) throws(CrossbarTwinError) {
        guard (0..<physics.config.physicalColumns).contains(column) else {
            throw .invalidADCColumn(column, count: physics.config.physicalColumns)
        }
        physics.breakColumn(column)
    }

    /// Restores the as-fabricated conductances (the `resettable` capability).
    public func reset() { physics.resetToInitialState() }

    // MARK: Device verbs (what a board's pulse, read and program-verify commands do)

    /// One SET (`set == true`) or RESET pulse on device `device` (parameter order).
    public func pulse(device: Int, set: Bool) throws(CrossbarTwinError) {
        try checkDevice(device)
        physics.pulse(device: device, set: set)
    }

    /// One noisy read of device `device`, µS.
    public func read(device: Int) throws(CrossbarTwinError) -> Double {
        try checkDevice(device)
        return physics.read(device: device)
    }

    /// Program-and-verify one device to `target` µS (checked against the safe window).
    public func programAndVerify(device: Int, target: Double) throws(CrossbarTwinError) -> VerifyOutcome {
        try checkParameter(index: device, value: target)
        return physics.programAndVerifyDetailed(device: device, target: target)
    }

    /// Every physical column's ADC reading for each input row (batch × 2·outputs, µA).
    public func measurePhysicalColumns(_ inputs: Matrix) throws(CrossbarTwinError) -> Matrix {
        guard inputs.rows <= descriptor.maxBatch else { throw .batchTooLarge(got: inputs.rows, max: descriptor.maxBatch) }
        try checkInputs(inputs)
        return physics.forwardPhysicalColumns(inputs)
    }

    private func checkDevice(_ device: Int) throws(CrossbarTwinError) {
        guard device >= 0, device < physics.deviceCount else {
            throw refuse(.parameterIndexOutOfRange(index: device, count: physics.deviceCount))
        }
    }

    // MARK: Device-side checks

    private func refuse(_ error: CrossbarTwinError) -> CrossbarTwinError {
        if error.isSafetyViolation { physics.recordViolation() }
        return error
    }

    private func checkParameter(index: Int, value: Double) throws(CrossbarTwinError) {
        let space = descriptor.parameters
        guard index >= 0, index < space.count else {
            throw refuse(.parameterIndexOutOfRange(index: index, count: space.count))
        }
        guard value.isFinite else { throw refuse(.notFinite(what: "conductance target \(space.name(of: index))")) }
        guard value >= space.lower[index], value <= space.upper[index] else {
            throw refuse(
                .parameterRefused(name: space.name(of: index), value: value, lower: space.lower[index], upper: space.upper[index])
            )
        }
    }

    private func checkInputs(_ inputs: Matrix) throws(CrossbarTwinError) {
        let channels = descriptor.inputs
        guard inputs.cols == channels.count else { throw refuse(.wrongInputWidth(expected: channels.count, got: inputs.cols)) }
        for (k, v) in inputs.storage.enumerated() where !(v >= channels.lower && v <= channels.upper) {
            let (row, channel) = (k / inputs.cols, k % inputs.cols)
            guard v.isFinite else { throw refuse(.notFinite(what: "input \(channel) of vector \(row)")) }
            throw refuse(.inputRefused(vector: row, channel: channel, value: v, lower: channels.lower, upper: channels.upper))
        }
    }

    private func checkProbe(_ probe: Probe) throws(CrossbarTwinError) {
        for change in probe.changes { try checkParameter(index: change.index, value: change.value) }
        try checkInputs(probe.inputs)
    }

    // MARK: Streaming

    private func run(_ probes: [Probe], into continuation: AsyncThrowingStream<ProbeResult, any Error>.Continuation) async {
        do {
            for probe in probes { try checkProbe(probe) }
        } catch {
            continuation.finish(throwing: error)
            return
        }
        for probe in probes {
            if Task.isCancelled { break }
            continuation.yield(runProbe(probe))
            await Task.yield()
        }
        continuation.finish()
    }

    private func runProbe(_ probe: Probe) -> ProbeResult {
        var previous: [(index: Int, target: Double)] = []
        for change in probe.changes {
            previous.append((change.index, physics.targets[change.index]))
            physics.programAndVerify(device: change.index, target: change.value)
        }
        let repeats = max(1, probe.repeats)
        var flags: [Bool] = []
        var sum = physics.forward(probe.inputs, saturated: &flags)
        for _ in 1..<repeats {
            let next = physics.forward(probe.inputs, saturated: &flags)
            for i in sum.storage.indices { sum.storage[i] += next.storage[i] }
        }
        saturated += flags.count { $0 }
        if repeats > 1 {
            let scale = 1 / Double(repeats)
            for i in sum.storage.indices { sum.storage[i] *= scale }
        }
        for change in previous.reversed() { physics.programAndVerify(device: change.index, target: change.target) }
        return ProbeResult(id: probe.id, outputs: sum, measurementCount: probe.inputs.rows * repeats)
    }
}

extension CrossbarTwin: ReadoutFaults {
    public var readoutChannelCount: Int { physics.config.physicalColumns }
    public func breakReadout(channel: Int) throws { try breakADC(column: channel) }
}
