import CameraDriver
import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// How an optics rig makes sure each frame shows the pattern meant for it.
public enum RigSync: String, Sendable, Codable, CaseIterable {
    /// The SLM's "pattern settled" output triggers the camera (line 1): upload → show → grab.
    case hardware
    /// Upload → show → wait until settled → flush stale frames → TriggerSoftware → grab.
    case software
    /// No synchronisation at all: show and trigger at once. Only for showing what the
    /// other two prevent (frames of blended or old patterns); never chosen by `auto`.
    case unsynchronised
}

/// An optics rig over two links: a phase SLM and a camera, composed into one `Substrate`
/// (the link-side counterpart of `sim:optics`).
///
/// The SLM's first `inputs` macro-pixels (row-major) encode an input vector (v ∈ [−1, 1] →
/// grey round(127.5·(v + 1))); the trainable grey levels (integers 0–255, resolution 1) are
/// shown as `layout` says — overlay: added modulo 256 to the grey levels of the first
/// `parameters` input macro-pixels; side by side: on the next `parameters` macro-pixels —
/// and the rest of the SLM shows grey 0. Each input vector becomes
/// one pattern, uploaded into the next SLM slot, shown, and seen by one camera frame whose
/// ROI pixels, binned `binning` × `binning`, are the outputs (DN). Synchronisation is
/// ``RigSync/hardware`` when the SLM has a trigger output and the camera a trigger line,
/// otherwise ``RigSync/software``.
public actor OpticsRig: Substrate {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let slm: SLMDevice
    public nonisolated let camera: CameraDevice
    public nonisolated let inputs: Int
    public nonisolated let binning: Int
    public nonisolated let sync: RigSync
    /// Where the trainable grey levels are shown (`OpticsLayout`).
    public nonisolated let layout: OpticsLayout
    /// Camera exposure, µs.
    public nonisolated let exposure: Double
    private var parameters: [UInt8]
    var prepared = false
    var nextSlot = 0
    /// Pattern/frame pairs measured, and the CRC-32 of every pattern shown (in order, the
    /// last 100 000), so a test can compare them with what the camera saw.
    public private(set) var pairs = 0
    public private(set) var shownCRCs: [UInt32] = []
    /// Largest batch per measure.
    public static let maxBatch = 16_384

    /// Composes `slm` and `camera`; `sync` nil chooses hardware triggering when both offer it.
    public init(
        slm: SLMDevice, camera: CameraDevice, inputs: Int, parameters: Int, binning: Int = 1, exposure: Double = 1000,
        sync: RigSync? = nil, layout: OpticsLayout = .sideBySide
    ) throws {
        let room = slm.info.patternBytes
        guard inputs >= 1, parameters >= 0, (layout == .overlay ? inputs : inputs + parameters) <= room else {
            throw OpticsRigError.doesNotFit(inputs: inputs, parameters: parameters, macroPixels: room)
        }
        guard layout == .sideBySide || parameters <= inputs else {
            throw OpticsRigError.badSetting(
                "the overlay layout adds each trainable grey level to an input macro-pixel: \(parameters) trainable "
                    + "grey levels for \(inputs) input macro-pixels (use --layout side-by-side for more)")
        }
        let ci = camera.info
        guard binning >= 1, binning <= min(ci.sensorWidth, ci.sensorHeight) else {
            throw OpticsRigError.badSetting("binning \(binning) for a \(ci.sensorWidth)×\(ci.sensorHeight) sensor")
        }
        guard ci.exposure.contains(exposure) else {
            throw OpticsRigError.badSetting(
                "exposure \(exposure) µs is outside the camera's \(ci.exposure.lowerBound)…\(ci.exposure.upperBound) µs")
        }
        let hardware = slm.info.triggerOut && ci.lineTrigger
        let chosen = sync ?? (hardware ? .hardware : .software)
        if chosen == .hardware && !hardware {
            throw OpticsRigError.badSetting("hardware sync needs the SLM's trigger output and the camera's line 1")
        }
        self.slm = slm
        self.camera = camera
        self.inputs = inputs
        self.binning = binning
        self.exposure = exposure
        self.sync = chosen
        self.layout = layout
        self.parameters = Array(repeating: 0, count: parameters)
        let features = (ci.sensorWidth / binning) * (ci.sensorHeight / binning)
        let maxDN = Double((1 << ci.bits) - 1)
        descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(
                family: OpticsFamily.family, model: "rig: \(slm.descriptor.identity.model) + \(camera.descriptor.identity.model)",
                serial: "\(slm.descriptor.identity.serial)+\(camera.descriptor.identity.serial)",
                firmware: "\(slm.descriptor.identity.firmware)+\(camera.descriptor.identity.firmware)"),
            parameters: ParameterSpace(
                count: parameters, lower: 0, upper: 255, resolution: 1, unit: .greyLevel, naming: .indexed(prefix: "grey")),
            inputs: ChannelSpace(count: inputs, lower: -1, upper: 1, resolution: 0, unit: .dimensionless),
            outputs: ChannelSpace(
                count: features, lower: 0, upper: maxDN, resolution: 1 / Double(binning * binning), unit: .count),
            capabilities: [.triggered], maxBatch: Self.maxBatch)
    }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        parameters = targets.map { UInt8(min(max($0.rounded(), 0), 255)) }
        return parameters.map(Double.init)
    }

    public func readParameters() async throws -> [Double] { parameters.map(Double.init) }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await frames(inputs, parameters: parameters)
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { try await self.run($0) }
    }

    public func enterSafeState() async throws {
        try await slm.enterSafeState()
        try await camera.enterSafeState()
        prepared = false
    }

    private func run(_ probe: Probe) async throws -> ProbeResult {
        var grey = parameters
        for c in probe.changes {
            guard c.index >= 0, c.index < grey.count, c.value.isFinite, c.value >= 0, c.value <= 255 else {
                throw OpticsRigError.badSetting("probe grey[\(c.index)] = \(c.value) (0…255)")
            }
            grey[c.index] = UInt8(c.value.rounded())
        }
        var sum = try await frames(probe.inputs, parameters: grey)
        for _ in 1..<max(1, probe.repeats) { sum = sum + (try await frames(probe.inputs, parameters: grey)) }
        if probe.repeats > 1 { sum = (1 / Double(probe.repeats)) * sum }
        return ProbeResult(id: probe.id, outputs: sum, measurementCount: probe.measurementCount)
    }

    // MARK: Sequencing

    /// Configures both devices for the chosen synchronisation (once, and after a safe state).
    func prepare() async throws {
        try await camera.stop()
        try await camera.set(.offsetX, 0)
        try await camera.set(.offsetY, 0)
        try await camera.set(.width, Double(camera.info.sensorWidth))
        try await camera.set(.height, Double(camera.info.sensorHeight))
        let format: PixelFormat = camera.info.formats.contains(.mono12) && camera.info.bits > 8 ? .mono12 : .mono8
        try await camera.set(.pixelFormat, Double(format.rawValue))
        try await camera.set(.exposureTime, exposure)
        try await camera.set(.triggerDelay, 0)
        try await camera.set(.triggerMode, 1)
        try await camera.set(.triggerSource, sync == .hardware ? 1 : 0)
        try await slm.setTriggers(input: false, output: sync == .hardware)
        try await camera.start()
        prepared = true
    }

    /// One frame per input row, the trainable region at `grey`.
    private func frames(_ x: Matrix, parameters grey: [UInt8]) async throws -> Matrix {
        guard x.cols == inputs else { throw OpticsRigError.badSetting("\(x.cols) input values for \(inputs) input macro-pixels") }
        if !prepared { try await prepare() }
        let ci = camera.info
        let features = descriptor.outputs.count
        var out = Matrix(rows: x.rows, cols: features)
        var input = [UInt8](repeating: 0, count: inputs)
        for r in 0..<x.rows {
            for c in 0..<inputs { input[c] = OpticsPhysics.grey(x[r, c]) }
            let frame = try await showAndGrab(pattern(input: input, parameters: grey))
            let scale = pow(2, Double(ci.bits - frame.info.format.bits))  // back to sensor DN
            bin(frame.pixels, width: frame.info.width, scale: scale, into: &out, row: r)
        }
        return out
    }

    /// The whole-SLM pattern (one grey level per macro-pixel, row-major) showing input grey
    /// levels `input` with the trainable grey levels `grey`, composed as `layout` says
    /// (overlay: (input + trainable) mod 256 on the same macro-pixels); grey 0 elsewhere.
    public nonisolated func pattern(input: [UInt8], parameters grey: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: slm.info.patternBytes)
        for (i, g) in input.prefix(inputs).enumerated() { out[i] = g }
        for (j, g) in grey.enumerated() {
            let k = layout == .overlay ? j : inputs + j
            out[k] = layout == .overlay ? out[k] &+ g : g
        }
        return out
    }

    /// Camera frames of whole-SLM patterns (one grey level per macro-pixel, row-major), each
    /// shown and seen with the rig's synchronisation: the ROI's pixels in sensor DN, unbinned.
    /// What calibrations take (the LUT from two interfering regions).
    public func patternFrames(_ patterns: [[UInt8]]) async throws -> [[Double]] {
        if !prepared { try await prepare() }
        var out: [[Double]] = []
        for pattern in patterns {
            guard pattern.count == slm.info.patternBytes else {
                throw OpticsRigError.badSetting(
                    "a pattern of \(pattern.count) grey levels for \(slm.info.patternBytes) macro-pixels")
            }
            let frame = try await showAndGrab(pattern)
            let scale = pow(2, Double(camera.info.bits - frame.info.format.bits))
            out.append(frame.pixels.map { $0 * scale })
        }
        return out
    }

    /// The same at another camera exposure (µs, within the camera's range), the rig's own
    /// exposure restored afterwards — what the photon-transfer calibration takes.
    public func patternFrames(_ patterns: [[UInt8]], exposure other: Double) async throws -> [[Double]] {
        let range = camera.info.exposure
        guard other.isFinite, range.contains(other) else {
            throw OpticsRigError.badSetting(
                "exposure \(other) µs is outside the camera's \(range.lowerBound)…\(range.upperBound) µs")
        }
        if !prepared { try await prepare() }
        try await camera.set(.exposureTime, other)
        do {
            let frames = try await patternFrames(patterns)
            try await camera.set(.exposureTime, exposure)
            return frames
        } catch {
            _ = try? await camera.set(.exposureTime, exposure)
            throw error
        }
    }

    /// Uploads `pattern` into the next slot, shows it and grabs the frame that sees it.
    private func showAndGrab(_ pattern: [UInt8]) async throws -> CameraGrab {
        let slot = nextSlot
        nextSlot = (nextSlot + 1) % slm.info.slots
        try await slm.upload(pattern, slot: slot)
        switch sync {
        case .hardware:
            try await slm.show(slot: slot, wait: false)
        case .software:
            try await slm.show(slot: slot, wait: true)
            try await camera.flush()
            try await camera.triggerSoftware()
        case .unsynchronised:
            try await slm.show(slot: slot, wait: false)
            try await camera.triggerSoftware()
        }
        let frame = try await camera.grab()
        pairs += 1
        shownCRCs.append(CRC32.checksum(pattern))
        if shownCRCs.count > 100_000 { shownCRCs.removeFirst(shownCRCs.count - 100_000) }
        return frame
    }

    private func bin(_ pixels: [Double], width: Int, scale: Double, into out: inout Matrix, row: Int) {
        let b = binning
        let fw = width / b
        let fh = pixels.count / width / b
        let norm = scale / Double(b * b)
        for fy in 0..<fh {
            for fx in 0..<fw {
                var s = 0.0
                for dy in 0..<b { for dx in 0..<b { s += pixels[(fy * b + dy) * width + fx * b + dx] } }
                out[row, fy * fw + fx] = s * norm
            }
        }
    }
}

/// Why a rig could not be composed, in words.
public enum OpticsRigError: Error, Equatable, CustomStringConvertible {
    /// The input and trainable regions need more macro-pixels than the SLM has.
    case doesNotFit(inputs: Int, parameters: Int, macroPixels: Int)
    /// A rig setting that cannot work with these devices.
    case badSetting(String)
    /// A member device of the wrong family.
    case wrongMember(role: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .doesNotFit(let i, let p, let m):
            "optics rig: \(i) input + \(p) trainable macro-pixels do not fit on an SLM of \(m) macro-pixels"
        case .badSetting(let why): "optics rig: \(why)"
        case .wrongMember(let role, let expected, let found):
            "optics rig: the \(role) must be a \(expected) device, not a \(found) device"
        }
    }
}
