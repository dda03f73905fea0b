import Foundation
import PNNCore
import PNNSim

/// What the crossbar calibration measured (the profile's payload): per device the
/// conductance window and soft-bounds step constants, the stuck devices, the read and write
/// noise, per physical column the ADC gain and offset and the dead columns, the conductances
/// the devices were left at, the twin fidelity, and what it cost in pulses.
///
/// Per-device arrays are in parameter order (index = row·2·outputs + column, docs/protocol.md
/// §13.2); per-column arrays by physical column 0 ..< 2·outputs. Units in the names: `Us` = µS,
/// `Ua` = µA.
public struct CrossbarCalibrationResult: Sendable, Codable, Equatable {
    /// The board's declared geometry and ranges (a twin built from the profile takes them).
    public var geometry: CrossbarGeometry
    /// Lower and upper end of each device's own window, µS (a stuck device: its stuck level in both).
    public var gMinUs: [Double]
    public var gMaxUs: [Double]
    /// Soft-bounds step fractions: a SET pulse moves G by αset·(Gmax − G), a RESET pulse by
    /// −αreset·(G − Gmin) (0 for stuck devices).
    public var alphaSet: [Double]
    public var alphaReset: [Double]
    /// Mean αset / αreset over working devices (SET/RESET asymmetry at mid-window).
    public var asymmetry: Double
    /// Devices that did not move under SET or RESET pulses.
    public var stuckDevices: [Int]
    /// Devices whose SET or RESET sweep reached the pulse cap before converging (their
    /// window end is extrapolated from a partial sweep).
    public var cappedDevices: [Int]
    /// Relative standard deviation of one device read.
    public var readNoise: Double
    /// Cycle-to-cycle write noise: relative standard deviation of one pulse's step.
    public var writeNoise: Double
    /// Per physical column: ADC gain (0 for a dead column) and offset, µA.
    public var adcGain: [Double]
    public var adcOffsetUa: [Double]
    /// Physical columns that read 0 whatever the current.
    public var deadColumns: [Int]
    /// Conductances the devices were left at (mean of repeated reads), µS.
    public var conductancesUs: [Double]
    /// Standard deviation of one measured output on the held-out inputs, µA.
    public var outputNoiseUa: Double
    /// RMS(twin-predicted − measured outputs on held-out random inputs) / outputNoiseUa.
    public var twinFidelity: Double
    /// The same for the twin with ideal column ADCs (gain 1, offset 0): what the column
    /// calibration is worth.
    public var twinFidelityIdealAdcs: Double
    /// Held-out input vectors and repeats behind the fidelity.
    public var fidelityVectors: Int
    public var fidelityRepeats: Int
    /// Pulses sent: by the sweeps, by restoring the starting conductances, in all; the
    /// bound the procedure planned and never exceeds; the board's own counter over the run.
    public var pulsesSweeps: Int
    public var pulsesRestore: Int
    public var pulsesTotal: Int
    public var pulseBound: Int
    public var pulsesBoardCounted: Int
    /// Devices whose starting conductance was restored within the verify tolerance.
    public var restoredDevices: Int
    /// Single-device reads and input vectors used.
    public var reads: Int
    public var vectors: Int
    /// The pulse the constants describe.
    public var pulseShape: CrossbarPulseShape
    /// Pulses the board had counted since power-up when the calibration started.
    public var pulsesBeforeCalibration: Int
    /// Why the result may be doubtful (board history, drift during the run…); empty when none.
    public var warnings: [String]
    /// Drift (optional long mode, `--drift SECONDS`; nil when not measured): per device the
    /// exponent ν of G(t) = G0 (t/t0)^(−ν) fitted to reads at log-spaced ages from t0 to
    /// `driftSeconds` after programming (0 for stuck devices), its mean and spread over
    /// working devices, t0, and the pulses the programming took (one RESET, one SET per
    /// working device).
    public var driftNu: [Double]?
    public var driftNuMean: Double?
    public var driftNuSpread: Double?
    public var driftSeconds: Double?
    public var driftT0: Double?
    /// Half the time the programming pulses took, s (the ages carry this uncertainty).
    public var driftProgrammingUncertainty: Double?
    public var pulsesDrift: Int?
}

// MARK: Comparison with a twin's or emulator's hidden state

/// A calibration's errors against the hidden truth of a twin or emulated board.
public struct CrossbarCalibrationComparison: Sendable, Codable, Equatable {
    /// Largest error of either window end over working devices, as a fraction of that
    /// device's true window Gmax − Gmin.
    public var windowErrorMax: Double
    /// RMS of the same per-device figure.
    public var windowErrorRMS: Double
    /// Largest relative error of Gmax.
    public var gMaxRelativeErrorMax: Double
    /// Largest error of Gmin, µS (Gmin is small: its relative error is large even when the
    /// window is right).
    public var gMinErrorMaxUs: Double
    /// |σ̂ − σ| / σ of the read noise.
    public var readNoiseRelativeError: Double
    /// |ŵ − w| / w of the write noise (NaN-free: 0 when the truth has none and none was found).
    public var writeNoiseRelativeError: Double
    /// RMS relative error of αset and αreset over working devices.
    public var alphaSetRelativeRMS: Double
    public var alphaResetRelativeRMS: Double
    /// Stuck devices: truly stuck, found and missed, reported but not stuck.
    public var stuckTrue: Int
    public var stuckMissed: Int
    public var stuckFalse: Int
    /// Dead columns: missed and falsely reported.
    public var deadColumnsMissed: Int
    public var deadColumnsFalse: Int
    /// Largest relative ADC gain error and largest offset error (µA; and as a fraction of
    /// the full scale) over live columns.
    public var adcGainErrorMax: Double
    public var adcOffsetErrorMaxUa: Double
    public var adcOffsetErrorMaxFullScale: Double
    /// Largest true |offset| (µA), the scale the offset errors compare with.
    public var adcOffsetTrueMaxUa: Double
    /// Drift (when measured): |mean ν̂ − mean ν| and RMS(ν̂ − ν) over working devices, and
    /// the true mean ν.
    public var driftNuMeanError: Double?
    public var driftNuRMSError: Double?
    public var driftNuTrueMean: Double?

    public init(result r: CrossbarCalibrationResult, truth t: CrossbarPhysics) {
        let n = min(r.gMinUs.count, t.deviceCount)
        let found = Set(r.stuckDevices)
        let stuck = Set((0..<t.deviceCount).filter { t.stuck[$0] })
        let working = (0..<n).filter { !found.contains($0) && !stuck.contains($0) }
        func rms(_ x: [Double]) -> Double { x.isEmpty ? 0 : sqrt(x.map { $0 * $0 }.reduce(0, +) / Double(x.count)) }
        let window = working.map { d in
            max(abs(r.gMinUs[d] - t.deviceGMin[d]), abs(r.gMaxUs[d] - t.deviceGMax[d])) / (t.deviceGMax[d] - t.deviceGMin[d])
        }
        windowErrorMax = window.max() ?? 0
        windowErrorRMS = rms(window)
        gMaxRelativeErrorMax = working.map { abs(r.gMaxUs[$0] - t.deviceGMax[$0]) / t.deviceGMax[$0] }.max() ?? 0
        gMinErrorMaxUs = working.map { abs(r.gMinUs[$0] - t.deviceGMin[$0]) }.max() ?? 0
        let sigma = t.config.readNoise
        readNoiseRelativeError = sigma > 0 ? abs(r.readNoise - sigma) / sigma : r.readNoise
        let w = t.config.writeNoise
        writeNoiseRelativeError = w > 0 ? abs(r.writeNoise - w) / w : r.writeNoise
        alphaSetRelativeRMS = rms(working.map { (r.alphaSet[$0] - t.alphaSet[$0]) / t.alphaSet[$0] })
        alphaResetRelativeRMS = rms(working.map { (r.alphaReset[$0] - t.alphaReset[$0]) / t.alphaReset[$0] })
        stuckTrue = stuck.count
        stuckMissed = stuck.subtracting(found).count
        stuckFalse = found.subtracting(stuck).count
        let dead = Set(t.deadColumns), foundDead = Set(r.deadColumns)
        deadColumnsMissed = dead.subtracting(foundDead).count
        deadColumnsFalse = foundDead.subtracting(dead).count
        let live = (0..<min(r.adcGain.count, t.adcGain.count)).filter { !dead.contains($0) && !foundDead.contains($0) }
        adcGainErrorMax = live.map { abs(r.adcGain[$0] - t.adcGain[$0]) / t.adcGain[$0] }.max() ?? 0
        adcOffsetErrorMaxUa = live.map { abs(r.adcOffsetUa[$0] - t.adcOffset[$0]) }.max() ?? 0
        adcOffsetErrorMaxFullScale = adcOffsetErrorMaxUa / t.config.effectiveFullScale
        adcOffsetTrueMaxUa = live.map { abs(t.adcOffset[$0]) }.max() ?? 0
        if let nu = r.driftNu, nu.count == t.deviceCount, !working.isEmpty {
            let trueMean = working.map { t.driftExponent[$0] }.reduce(0, +) / Double(working.count)
            let mean = working.map { nu[$0] }.reduce(0, +) / Double(working.count)
            driftNuTrueMean = trueMean
            driftNuMeanError = abs(mean - trueMean)
            driftNuRMSError = rms(working.map { nu[$0] - t.driftExponent[$0] })
        }
    }
}

// MARK: A twin from the profile

extension CrossbarCalibrationResult {
    /// A twin that imitates the calibrated device: its geometry and converters, every
    /// device's fitted window and step constants at the conductance it was left at, the stuck
    /// devices, the dead columns and the column ADC gains and offsets. With `noise` false the
    /// twin is the noise-free predictor the fidelity is measured with (no read or write
    /// noise, no ADC quantisation: it predicts the mean reading).
    public func twinPhysics(noise: Bool, seed: UInt64 = 1) throws -> CrossbarPhysics {
        let g = geometry
        var c = CrossbarConfig(rows: g.rows, outputs: g.outputs, seed: seed)
        c.gMin = g.gMin
        c.gMax = g.gMax
        c.tolerance = g.tolerance
        c.vReadMax = g.vReadMax
        c.dacBits = Self.bits(range: g.vReadMax, step: g.dacStep)
        c.adcBits = noise ? Self.bits(range: g.fullScale, step: g.adcStep) : nil
        c.fullScale = g.fullScale
        c.windowSpread = 0
        c.alphaSpread = 0
        let working = (0..<gMinUs.count).filter { !Set(stuckDevices).contains($0) }
        func mean(_ x: [Double]) -> Double { working.isEmpty ? 0 : working.map { x[$0] }.reduce(0, +) / Double(working.count) }
        c.alphaSet = min(1, max(1e-6, mean(alphaSet)))
        c.alphaReset = min(1, max(1e-6, mean(alphaReset)))
        c.writeNoise = noise ? writeNoise : 0
        c.readNoise = noise ? readNoise : 0
        c.driftNuMean = 0
        c.driftNuSpread = 0
        if let t0 = driftT0, t0 > 0 { c.driftT0 = t0 }
        c.stuckFraction = 0
        c.adcFailureRate = 0
        c.deadColumns = deadColumns
        let base = try CrossbarPhysics(config: c).exportState()
        guard case .object(var doc) = try JSONValue(parsing: base) else {
            throw CrossbarCalibrationError.unusable("the twin's state document is not an object")
        }
        let limit = 2 * g.gMax
        var lo = gMinUs, hi = gMaxUs, programmed = conductancesUs
        for d in lo.indices {
            lo[d] = min(max(lo[d], 1e-6), limit)
            hi[d] = min(max(hi[d], lo[d] + 1e-6), limit)
            if lo[d] >= hi[d] { lo[d] = hi[d] - 1e-6 }
            programmed[d] = min(max(programmed[d], lo[d]), hi[d])
        }
        func numbers(_ x: [Double]) -> JSONValue { .array(x.map { .number($0) }) }
        doc["device_g_min_uS"] = numbers(lo)
        doc["device_g_max_uS"] = numbers(hi)
        doc["alpha_set"] = numbers(alphaSet.map { min(1, max(1e-6, $0)) })
        doc["alpha_reset"] = numbers(alphaReset.map { min(1, max(1e-6, $0)) })
        doc["stuck_devices"] = .array(stuckDevices.map { .number(Double($0)) })
        doc["programmed_uS"] = numbers(programmed)
        doc["targets"] = numbers(programmed)
        doc["adc_gain"] = numbers(adcGain.map { $0 > 0.01 ? $0 : 1 })
        doc["adc_offset_uA"] = numbers(adcOffsetUa.map { min(max($0, -g.fullScale), g.fullScale) })
        // The device's twin drifts as measured (the prediction of the present outputs does not).
        if noise, let nu = driftNu, nu.count == lo.count { doc["drift_nu"] = numbers(nu.map { min(max($0, 0), 1) }) }
        return try CrossbarPhysics(importing: Data(JSONValue.object(doc).jsonString().utf8))
    }

    /// Converter bits whose mid-tread step over ±range is `step` (nil: unquantised or not a
    /// whole number of bits).
    static func bits(range: Double, step: Double) -> Int? {
        guard step > 0, range > 0 else { return nil }
        let levels = (range / step).rounded()
        let bits = Int(log2(levels + 1).rounded()) + 1
        guard (2...30).contains(bits), abs(Double((1 << (bits - 1)) - 1) - levels) < 0.5 else { return nil }
        return bits
    }
}
