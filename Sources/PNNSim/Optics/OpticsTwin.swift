import Foundation
import PNNCore

/// An in-process SLM + scattering medium + camera behaving like the rig: a `Substrate`
/// wrapping `OpticsPhysics`. Parameters are the trainable macro-pixels' grey levels
/// (integers 0–255), inputs are values in [−1, 1] shown as grey levels on the input region
/// (phase, or binary amplitude), outputs are the camera's binned features in DN.
///
/// Device-side defence: every grey level, input value, exposure and gain is re-checked
/// against the declared safe ranges; a refused value throws `OpticsError` and is counted
/// in `violations`.
public actor OpticsTwin: Substrate, IdealOutputs {
    public nonisolated let descriptor: SubstrateDescriptor
    private var physics: OpticsPhysics

    /// Safe exposure range, µs.
    public static let exposureRange: ClosedRange<Double> = 10...100_000
    /// Safe analog gain range, dB.
    public static let gainRange: ClosedRange<Double> = 0...24
    /// Largest batch one measure call accepts.
    public static let maxBatch = 16_384

    /// Builds the rig described by `config` (default: a small realistic rig).
    public init(config: OpticsConfig = OpticsConfig()) throws(OpticsError) {
        self.init(physics: try OpticsPhysics(config: config))
    }

    /// Wraps an existing physics state.
    public init(physics: OpticsPhysics) {
        self.physics = physics
        self.descriptor = Self.descriptor(physics.config)
    }

    /// Restores a twin from `exportState()` JSON.
    public init(importing data: Data) throws(OpticsError) {
        self.init(physics: try OpticsPhysics(importing: data))
    }

    /// The descriptor of a rig built from `config`.
    public static func descriptor(_ config: OpticsConfig) -> SubstrateDescriptor {
        SubstrateDescriptor(
            identity: DeviceIdentity(
                family: "optics", model: "slm-camera-twin", serial: "sim-\(config.seed)", firmware: "twin-1"),
            parameters: ParameterSpace(
                count: config.parameters, lower: 0, upper: 255, resolution: 1, unit: .greyLevel,
                naming: .indexed(prefix: "grey")),
            inputs: ChannelSpace(count: config.inputs, lower: -1, upper: 1, resolution: 2.0 / 255, unit: .dimensionless),
            outputs: ChannelSpace(
                count: config.features, lower: 0, upper: config.maxDN,
                resolution: config.quantisationEnabled ? 1 / Double(config.binning * config.binning) : 0, unit: .count),
            capabilities: [.triggered, .drifting], maxBatch: maxBatch)
    }

    // MARK: Substrate

    /// Programs the trainable region; returns the grey levels shown (exact: an SLM pattern is digital).
    public func uncheckedProgram(_ targets: [Double]) throws(OpticsError) -> [Double] {
        guard targets.count == physics.parameters.count else {
            throw refuse(.wrongShape("\(targets.count) grey levels for \(physics.parameters.count) trainable macro-pixels"))
        }
        var grey = [UInt8](repeating: 0, count: targets.count)
        for (i, v) in targets.enumerated() {
            guard v.isFinite else { throw refuse(.notFinite("grey[\(i)]")) }
            guard v >= 0, v <= 255 else { throw refuse(.refused(what: "grey[\(i)]", value: v, lower: 0, upper: 255)) }
            grey[i] = UInt8(v.rounded())
        }
        physics.program(grey)
        return grey.map(Double.init)
    }

    public func readParameters() -> [Double] { physics.parameters.map(Double.init) }

    public func uncheckedMeasure(_ inputs: Matrix) throws(OpticsError) -> Matrix {
        try checkInputs(inputs)
        return physics.forward(inputs)
    }

    /// Runs the probes in order: show the changed grey levels, measure `repeats` times and
    /// average, restore. All probes are checked before the first runs.
    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let task = Task { await self.run(probes, into: continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Shows a blank pattern (grey 0 everywhere); the trainable grey levels return with the next frame.
    public func enterSafeState() { physics.showBlank() }

    // MARK: Twin extras

    /// The full physics state as JSON (see `OpticsStateDocument`).
    public func exportState() -> Data { physics.exportState() }

    /// A copy of the physics state, for tests and calibration.
    public func snapshot() -> OpticsPhysics { physics }

    /// Raw camera frames (ROI pixels, DN) with id and timestamp, one per input vector.
    public func frames(_ inputs: Matrix) throws(OpticsError) -> [CameraFrame] {
        try checkInputs(inputs)
        return physics.frames(inputs)
    }

    /// Noise-free intensities |E·T|² at the settled phases (the ideal projection), ROI pixels per row.
    public func idealIntensities(_ inputs: Matrix) throws(OpticsError) -> Matrix {
        try checkInputs(inputs)
        return physics.idealIntensities(inputs)
    }

    /// Noise-free binned features (see `OpticsPhysics.idealFeatures`).
    public func idealOutputs(_ inputs: Matrix) throws(OpticsError) -> Matrix {
        try checkInputs(inputs)
        return physics.idealFeatures(inputs)
    }

    public nonisolated var idealOutputsDescription: String {
        "the same projection (LUT, fringing, medium) with a settled SLM and a camera without noise, saturation or quantisation"
    }

    /// Sets exposure (µs) and/or gain (dB) within the safe ranges.
    public func setCamera(exposure: Double? = nil, gain: Double? = nil) throws(OpticsError) {
        if let e = exposure, !(e.isFinite && Self.exposureRange.contains(e)) {
            throw refuse(
                .refused(
                    what: "exposure (µs)", value: e, lower: Self.exposureRange.lowerBound, upper: Self.exposureRange.upperBound))
        }
        if let g = gain, !(g.isFinite && Self.gainRange.contains(g)) {
            throw refuse(
                .refused(what: "gain (dB)", value: g, lower: Self.gainRange.lowerBound, upper: Self.gainRange.upperBound))
        }
        physics.setCamera(exposure: exposure, gain: gain)
    }

    /// Loads a grey → phase table (256 finite phases, rad, within 0…4π).
    public func loadLUT(_ table: [Double]) throws(OpticsError) {
        guard table.count == 256 else { throw refuse(.wrongShape("a LUT has 256 entries, not \(table.count)")) }
        for (i, p) in table.enumerated() where !(p.isFinite && p >= 0 && p <= 4 * .pi) {
            throw refuse(.refused(what: "LUT[\(i)] (rad)", value: p, lower: 0, upper: 4 * .pi))
        }
        physics.loadLUT(table)
    }

    /// A step response of the trainable region (see `OpticsPhysics.stepResponseFrame`): one
    /// frame per delay (s), each the mean of `repeats` exposures of `exposure` µs.
    public func stepResponse(from: [UInt8], to: [UInt8], delays: [Double], exposure: Double, repeats: Int = 1) throws(OpticsError)
        -> [[Double]]
    {
        guard from.count == physics.parameters.count, to.count == physics.parameters.count else {
            throw refuse(.wrongShape("a step response needs \(physics.parameters.count) grey levels before and after"))
        }
        guard exposure.isFinite, Self.exposureRange.contains(exposure) else {
            throw refuse(
                .refused(
                    what: "exposure (µs)", value: exposure, lower: Self.exposureRange.lowerBound,
                    upper: Self.exposureRange.upperBound))
        }
        guard delays.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 60 }), (1...64).contains(repeats) else {
            throw refuse(.wrongShape("delays must lie within 0…60 s and repeats within 1…64"))
        }
        let saved = physics.parameters
        defer { physics.program(saved) }
        return delays.map { d in
            var sum = [Double](repeating: 0, count: physics.config.roiPixels)
            for _ in 0..<repeats {
                let f = physics.stepResponseFrame(from: from, to: to, delay: d, exposure: exposure)
                for i in sum.indices { sum[i] += f[i] / Double(repeats) }
            }
            return sum
        }
    }

    /// Frames of a static pattern, light on or blocked (see `OpticsPhysics.staticFrames`).
    public func staticFrames(dark: Bool, exposure: Double, count: Int) throws(OpticsError) -> [[Double]] {
        guard exposure.isFinite, Self.exposureRange.contains(exposure) else {
            throw refuse(
                .refused(
                    what: "exposure (µs)", value: exposure, lower: Self.exposureRange.lowerBound,
                    upper: Self.exposureRange.upperBound))
        }
        guard (1...1024).contains(count) else { throw .wrongShape("between 1 and 1024 frames, not \(count)") }
        return physics.staticFrames(dark: dark, exposure: exposure, count: count)
    }

    /// Lets simulated time pass.
    public func advanceTime(seconds: Double) throws(OpticsError) {
        guard seconds.isFinite, seconds >= 0 else { throw .notFinite("a duration ≥ 0 s") }
        physics.advanceTime(seconds: seconds)
    }

    /// Values refused so far.
    public func violations() -> Int { physics.violations }

    // MARK: Device-side checks

    private func refuse(_ error: OpticsError) -> OpticsError {
        physics.recordViolation()
        return error
    }

    private func checkInputs(_ inputs: Matrix) throws(OpticsError) {
        guard inputs.cols == descriptor.inputs.count else {
            throw refuse(
                .wrongShape(
                    "input vectors have \(inputs.cols) values; the input region has \(descriptor.inputs.count) macro-pixels"))
        }
        guard inputs.rows <= Self.maxBatch else { throw .wrongShape("batch of \(inputs.rows) exceeds \(Self.maxBatch)") }
        for (k, v) in inputs.storage.enumerated() where !(v >= -1 && v <= 1) {
            guard v.isFinite else { throw refuse(.notFinite("input \(k % inputs.cols) of vector \(k / inputs.cols)")) }
            throw refuse(.refused(what: "input \(k % inputs.cols) of vector \(k / inputs.cols)", value: v, lower: -1, upper: 1))
        }
    }

    private func checkProbe(_ probe: Probe) throws(OpticsError) {
        for change in probe.changes {
            guard change.index >= 0, change.index < physics.parameters.count else {
                throw refuse(.wrongShape("parameter index \(change.index) outside 0..<\(physics.parameters.count)"))
            }
            guard change.value.isFinite, change.value >= 0, change.value <= 255 else {
                throw refuse(.refused(what: "grey[\(change.index)]", value: change.value, lower: 0, upper: 255))
            }
        }
        try checkInputs(probe.inputs)
    }

    private func run(_ probes: [Probe], into continuation: AsyncThrowingStream<ProbeResult, any Error>.Continuation) async {
        do {
            for probe in probes { try checkProbe(probe) }
        } catch {
            continuation.finish(throwing: error)
            return
        }
        for probe in probes {
            if Task.isCancelled { break }
            let saved = physics.parameters
            var grey = saved
            for change in probe.changes { grey[change.index] = UInt8(change.value.rounded()) }
            physics.program(grey)
            let repeats = max(1, probe.repeats)
            var sum = physics.forward(probe.inputs)
            for _ in 1..<repeats {
                let next = physics.forward(probe.inputs)
                for i in sum.storage.indices { sum.storage[i] += next.storage[i] }
            }
            if repeats > 1 { for i in sum.storage.indices { sum.storage[i] /= Double(repeats) } }
            physics.program(saved)
            continuation.yield(ProbeResult(id: probe.id, outputs: sum, measurementCount: probe.inputs.rows * repeats))
            await Task.yield()
        }
        continuation.finish()
    }
}
