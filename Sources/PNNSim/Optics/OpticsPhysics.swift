import Foundation
import PNNCore

/// The whole optical rig in simulation: a phase SLM (input and trainable regions), a
/// scattering medium and a camera, sharing one simulated clock.
///
/// One measurement per input vector, sequenced like a rig with a hardware trigger: show the
/// pattern (input and trainable grey levels composed by `OpticsConfig.pattern`: side by
/// side, or added on the same macro-pixels in the overlay layout), wait the exposure
/// delay when the liquid crystal changed (else a DMD's 105 µs), expose, read out. The
/// SLM's phase is taken at the middle of the exposure (a blend if the exposure starts
/// before the crystal has settled). Frames are |E·T|² through the camera model, binned to
/// features.
///
/// Input channel values v ∈ [−1, 1] become grey levels g = round(127.5·(v + 1)); in binary
/// mode the input region is an amplitude mask (1 where g ≥ 128) with flat phase, switched
/// instantly like a DMD.
public struct OpticsPhysics: Sendable, Equatable {
    /// The settings the rig was built from (camera settings follow `setCamera`).
    public private(set) var config: OpticsConfig
    public private(set) var slm: PhaseSLM
    public private(set) var medium: TransmissionMatrix
    /// Trainable grey levels, one per trainable macro-pixel.
    public private(set) var parameters: [UInt8]
    /// Simulated time, s.
    public private(set) var clock: Double
    /// Frames taken (the next frame's id).
    public private(set) var frameCounter: UInt64
    /// Camera noise stream.
    public private(set) var noise: SeededRandom
    /// Refused values seen by the device-side checks.
    public private(set) var violations: Int

    /// Time a DMD takes to show a binary pattern, s (DESIGN.md: 105 µs).
    public static let dmdSwitchTime = 105e-6

    /// Builds the rig described by `config`; trainable grey levels start at a seeded uniform draw.
    public init(config: OpticsConfig) throws(OpticsError) {
        if let why = config.problem() { throw .invalidConfig(why) }
        self.config = config
        slm = PhaseSLM(config: config)
        medium = TransmissionMatrix(sources: config.macroPixels, pixels: config.roiPixels, seed: config.seed)
        var rng = SeededRandom.derived(seed: config.seed, stream: 0x0_97C5)
        parameters = (0..<config.parameters).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
        clock = 0
        frameCounter = 0
        noise = SeededRandom.derived(seed: config.seed, stream: 0xCA_3E7A)
        violations = 0
        slm.show(config.pattern(input: Array(repeating: 0, count: config.inputs), parameters: parameters), at: 0)
        clock = config.settlingEnabled ? config.settleDelay + 10 * config.settleTau : 0
    }

    /// Restores every part of a state (used by the state document).
    init(
        config: OpticsConfig, slm: PhaseSLM, medium: TransmissionMatrix, parameters: [UInt8], clock: Double,
        frameCounter: UInt64, noise: SeededRandom, violations: Int
    ) {
        self.config = config
        self.slm = slm
        self.medium = medium
        self.parameters = parameters
        self.clock = clock
        self.frameCounter = frameCounter
        self.noise = noise
        self.violations = violations
    }

    /// The camera model at the current settings.
    public var camera: OpticsCamera { OpticsCamera(config: config, frameCounter: frameCounter) }

    /// The grey level an input value v ∈ [−1, 1] is shown as.
    @inline(__always) public static func grey(_ v: Double) -> UInt8 {
        UInt8(min(max((127.5 * (v + 1)).rounded(), 0), 255))
    }

    /// Programs the trainable region (grey levels, already checked); the pattern shows with the next frame.
    public mutating func program(_ grey: [UInt8]) {
        precondition(grey.count == parameters.count, "one grey level per trainable macro-pixel")
        parameters = grey
    }

    /// Sets the camera's exposure (µs) and gain (dB), already checked.
    public mutating func setCamera(exposure: Double? = nil, gain: Double? = nil) {
        if let exposure { config.exposure = exposure }
        if let gain { config.gain = gain }
    }

    /// Replaces the SLM's grey → phase table (256 phases, rad).
    public mutating func loadLUT(_ table: [Double]) { slm.loadLUT(table) }

    /// Lets simulated time pass (the medium decorrelates, the crystal settles).
    public mutating func advanceTime(seconds: Double) {
        clock += max(0, seconds)
        catchUpMedium()
    }

    mutating func recordViolation() { violations += 1 }

    /// Decorrelation step length, s (∞ when decorrelation is off).
    var decorrelationStepSeconds: Double {
        config.decorrelationEnabled ? config.decorrelationStep * config.decorrelationTime : .infinity
    }

    /// Correlation kept over one step.
    var stepRho: Double { exp(-config.decorrelationStep) }

    /// Applies every decorrelation step due by the current clock.
    mutating func catchUpMedium() {
        let step = decorrelationStepSeconds
        guard step.isFinite else { return }
        let due = Int((clock / step).rounded(.down))
        if due > medium.updates { medium.decorrelate(steps: due - medium.updates, rho: stepRho) }
    }

    /// The complex SLM field (interleaved re, im per macro-pixel) for a pattern shown now;
    /// advances the clock through settle, exposure and readout. Returns the exposure start (s).
    mutating func expose(inputs row: ArraySlice<Double>, into field: inout [Double], at offset: Int) -> Double {
        let nIn = config.inputs
        let pattern = config.pattern(input: row.map(Self.grey), parameters: parameters)
        let binary = config.inputMode == .binary
        let lcChanged: Bool
        if binary {
            lcChanged = pattern[nIn...] != slm.grey[nIn...]
        } else {
            lcChanged = pattern != slm.grey
        }
        // In binary mode the input region is a DMD: the LC region keeps its grey levels.
        var lcPattern = pattern
        if binary { for i in 0..<nIn { lcPattern[i] = slm.grey[i] } }
        if lcChanged { slm.show(lcPattern, at: clock) }
        let delay = lcChanged ? config.resolvedExposureDelay : (binary ? Self.dmdSwitchTime : 0)
        let start = clock + delay
        let exposureSeconds = config.exposure * 1e-6
        let phase = slm.phase(at: start + exposureSeconds / 2)
        for i in 0..<config.macroPixels {
            let o = offset + 2 * i
            if binary && i < nIn {
                field[o] = pattern[i] >= 128 ? 1 : 0
                field[o + 1] = 0
            } else {
                field[o] = cos(phase[i])
                field[o + 1] = sin(phase[i])
            }
        }
        clock = start + exposureSeconds + config.readoutTime
        return start
    }

    /// Frames for a batch of input vectors (one row each, values in [−1, 1]), in order.
    public mutating func frames(_ inputs: Matrix) -> [CameraFrame] {
        precondition(inputs.cols == config.inputs, "one value per input macro-pixel")
        let n = config.macroPixels
        let m = config.roiPixels
        var out: [CameraFrame] = []
        out.reserveCapacity(inputs.rows)
        let chunk = max(1, min(inputs.rows, (1 << 22) / max(n + m, 1)))
        var r = 0
        while r < inputs.rows {
            catchUpMedium()
            let step = decorrelationStepSeconds
            let nextUpdate = step.isFinite ? Double(medium.updates + 1) * step : .infinity
            var field = [Double](repeating: 0, count: 2 * chunk * n)
            var starts: [Double] = []
            while starts.count < chunk, r < inputs.rows, clock < nextUpdate {
                let row = inputs.storage[(r * inputs.cols)..<((r + 1) * inputs.cols)]
                starts.append(expose(inputs: row, into: &field, at: 2 * starts.count * n))
                r += 1
            }
            let rows = starts.count
            if rows == 0 { continue }
            if rows < chunk { field.removeLast(2 * (chunk - rows) * n) }
            let intensity = medium.intensities(field, rows: rows)
            let cam = camera
            for i in 0..<rows {
                let pixels = cam.digitise(intensity[(i * m)..<((i + 1) * m)], rng: &noise)
                out.append(
                    CameraFrame(
                        id: frameCounter, timestamp: UInt64((starts[i] * 1e6).rounded()), width: config.resolvedROIWidth,
                        height: config.resolvedROIHeight, pixels: pixels))
                frameCounter &+= 1
            }
        }
        return out
    }

    /// Binned features for a batch of input vectors: one row per vector, mean DN per bin.
    public mutating func forward(_ inputs: Matrix) -> Matrix {
        let cam = camera
        var out = Matrix(rows: inputs.rows, cols: config.features)
        for (i, frame) in frames(inputs).enumerated() {
            let f = cam.bin(frame.pixels)
            for (c, v) in f.enumerated() { out[i, c] = v }
        }
        return out
    }

    /// Noise-free camera intensities |E·T|² (unit mean speckle) for a batch, ROI pixels per
    /// row, at the SLM's settled phases and the current medium: the ideal projection.
    public func idealIntensities(_ inputs: Matrix) -> Matrix {
        var copy = self
        copy.config.settlingEnabled = false
        copy.slm.settling = false
        let n = config.macroPixels
        var field = [Double](repeating: 0, count: 2 * inputs.rows * n)
        for r in 0..<inputs.rows {
            let row = inputs.storage[(r * inputs.cols)..<((r + 1) * inputs.cols)]
            _ = copy.expose(inputs: row, into: &field, at: 2 * r * n)
        }
        return Matrix(rows: inputs.rows, cols: config.roiPixels, storage: medium.intensities(field, rows: inputs.rows))
    }
}

/// Why an optical twin could not be built or refused a value, in words for the bench.
public enum OpticsError: Error, Equatable, CustomStringConvertible {
    /// Settings that cannot describe a rig.
    case invalidConfig(String)
    /// A grey level, input value, exposure or gain outside the declared safe range.
    case refused(what: String, value: Double, lower: Double, upper: Double)
    /// A batch or parameter vector of the wrong size.
    case wrongShape(String)
    /// A value that is NaN or infinite.
    case notFinite(String)
    /// A state file that cannot be restored.
    case invalidState(String)

    public var description: String {
        switch self {
        case .invalidConfig(let why): return "optics twin settings: \(why)"
        case .refused(let what, let value, let lower, let upper):
            return "refused \(what) = \(value): the safe range is \(lower)…\(upper)"
        case .wrongShape(let why): return why
        case .notFinite(let what): return "\(what) is not a finite number"
        case .invalidState(let why): return "optics twin state: \(why)"
        }
    }
}

extension OpticsPhysics {
    /// Noise-free binned features for a batch: the ideal projection (settled SLM, the
    /// current medium) through a camera with no shot, dark or read noise, no saturation and
    /// no quantisation, in DN.
    public func idealFeatures(_ inputs: Matrix) -> Matrix {
        let intensity = idealIntensities(inputs)
        let cam = camera
        let scale = cam.dnPerElectron * config.quantumEfficiency * config.photonFlux * config.exposure
        var out = Matrix(rows: inputs.rows, cols: config.features)
        let m = config.roiPixels
        for r in 0..<inputs.rows {
            let pixels = (0..<m).map { scale * intensity.storage[r * m + $0] + config.offset }
            for (c, v) in cam.bin(pixels).enumerated() { out[r, c] = v }
        }
        return out
    }

    /// Shows a blank pattern (grey 0 on every macro-pixel), the SLM's safe state.
    public mutating func showBlank() {
        slm.show(Array(repeating: 0, count: config.macroPixels), at: clock)
    }
}

extension OpticsPhysics {
    /// One frame of a liquid-crystal step response: the trainable region shows `from`
    /// (inputs blank) long enough to settle, then `to`; the camera exposes for `exposure` µs
    /// starting `delay` s after the change. What slmsuite's settle calibration measures.
    public mutating func stepResponseFrame(from: [UInt8], to: [UInt8], delay: Double, exposure: Double) -> [Double] {
        precondition(from.count == config.parameters && to.count == config.parameters, "one grey level per trainable macro-pixel")
        let blank = [UInt8](repeating: 0, count: config.inputs)
        slm.show(config.pattern(input: blank, parameters: from), at: clock)
        let settle: Double = config.settleDelay + 4 * config.settleTau
        clock += 1 + 10 * settle
        catchUpMedium()
        slm.show(config.pattern(input: blank, parameters: to), at: clock)
        let start = clock + max(0, delay)
        let phase = slm.phase(at: start + exposure * 1e-6 / 2)
        var field = [Double](repeating: 0, count: 2 * config.macroPixels)
        for i in 0..<config.macroPixels where !(config.inputMode == .binary && i < config.inputs) {
            field[2 * i] = cos(phase[i])
            field[2 * i + 1] = sin(phase[i])
        }
        let intensity = medium.intensities(field, rows: 1)
        var settings = config
        settings.exposure = exposure
        let pixels = OpticsCamera(config: settings).digitise(intensity[...], rng: &noise)
        clock = start + exposure * 1e-6 + config.readoutTime
        frameCounter &+= 1
        return pixels
    }
}

extension OpticsPhysics {
    /// `count` frames of the pattern shown now (inputs at mid-grey), exposed for `exposure`
    /// µs; `dark`: the light source is blocked (only dark signal, read noise and offset).
    /// What a camera calibration takes: dark frames and photon-transfer series.
    public mutating func staticFrames(dark: Bool, exposure: Double, count: Int) -> [[Double]] {
        let mid = [UInt8](repeating: 128, count: config.inputs)
        slm.show(config.pattern(input: mid, parameters: parameters), at: clock)
        let settle: Double = config.settleDelay + 4 * config.settleTau
        clock += 1 + 10 * settle
        catchUpMedium()
        let phase = slm.phase(at: clock)
        var field = [Double](repeating: 0, count: 2 * config.macroPixels)
        for i in 0..<config.macroPixels {
            if config.inputMode == .binary && i < config.inputs {
                field[2 * i] = 1
            } else {
                field[2 * i] = cos(phase[i])
                field[2 * i + 1] = sin(phase[i])
            }
        }
        var intensity = medium.intensities(field, rows: 1)
        if dark { intensity = Array(repeating: 0, count: intensity.count) }
        var settings = config
        settings.exposure = exposure
        let camera = OpticsCamera(config: settings)
        var out: [[Double]] = []
        for _ in 0..<count {
            out.append(camera.digitise(intensity[...], rng: &noise))
            clock += exposure * 1e-6 + config.readoutTime
            frameCounter &+= 1
        }
        return out
    }
}
