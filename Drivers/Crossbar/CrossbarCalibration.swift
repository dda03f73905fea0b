import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// The crossbar calibration, from the board's verbs only (identify, configure, read,
/// pulseRead, measure; docs/protocol.md §13). In order:
///
/// 1. **Known state**: `safeState`, every line active, `identify` must report safe with
///    nothing queued (else it refuses); the board's history is checked (refused values,
///    pulses since power-up).
/// 2. **Read noise**: every device read `noiseReads` times; σ = pooled relative spread.
/// 3. **Sweeps**: RESET every device to the bottom of its window, SET it to the top, RESET
///    it to the bottom again, one pulse per device per step with `stepReads` averaged reads
///    after each; a device leaves a sweep once the soft-bounds fit says less than
///    `stopFraction` (`gMinStopFraction` in the last sweep) of the way is left, or after
///    `maxPulses`. The SET sweep gives Gmax and αset, the last RESET sweep Gmin and αreset;
///    the residual steps, after subtracting the known read noise, give the write noise. A
///    device that moves in neither sweep is stuck.
/// 4. **Restore**: each device is brought back to its starting conductance by single pulses
///    and reads (≤ `maxPulses` each), then every device is read `finalReads` times.
/// 5. **Columns**: random inputs with each column sensed alone; per physical column the
///    reading against Σ V·G of the read conductances gives the ADC gain and offset; a
///    column that reads 0 for large currents is dead.
/// 6. **Twin fidelity**: held-out random inputs measured `fidelityRepeats` times; the
///    twin built from the profile predicts them; RMS(predicted − measured) / σ(measured).
///
/// 7. **Drift** (optional, `--drift SECONDS`): one RESET and one SET pulse per working device,
///    then reads at log-spaced ages from t0 to SECONDS; per device ν from log G against log t.
///
/// The pulses are bounded before any is sent: 4 × `maxPulses` per device (three sweeps and
/// the restore), plus 2 with drift; `pulseBudget` refuses a calibration that could exceed it.
public struct CrossbarCalibration: CalibrationProcedure {
    public let name = "crossbar-devices"
    public let version = 1
    public let summary =
        "per-device window, SET/RESET soft-bounds steps, read and write noise, stuck devices; per-column ADC gain, "
        + "offset and dead columns; twin fidelity"

    /// Largest pulses per device per sweep (and for the restore).
    public var maxPulses = 1000
    /// Reads averaged after every sweep step.
    public var stepReads = 4
    /// Reads of every device for the read noise, and at the end for the conductances.
    public var noiseReads = 16
    public var finalReads = 32
    /// A sweep stops for a device once less than this fraction of its way is left (the
    /// last RESET sweep, which gives Gmin, at `gMinStopFraction`).
    public var stopFraction = 0.015
    public var gMinStopFraction = 0.002
    /// Refuse when the bound on the pulses exceeds this (nil: no budget).
    public var pulseBudget: Int?
    /// Pulse shape; nil: ±2 V (or the board's largest amplitude when lower), 100 ns.
    public var pulseShape: CrossbarPulseShape?
    /// Input vectors for the ADC fit and held-out vectors × repeats for the fidelity.
    public var columnVectors = 128
    public var fidelityVectors = 48
    public var fidelityRepeats = 8
    /// Mean pulses per device since power-up above which the board's history is flagged.
    public var wearWarningPulses = 10_000
    /// Seed of the random inputs.
    public var seed: UInt64 = 17
    /// Drift (step 7, off by default): how long after programming to read, s (nil: not
    /// measured); t0 of G(t) = G0 (t/t0)^(−ν), s; read times (log-spaced from t0); reads of
    /// the array averaged at each.
    public var driftSeconds: Double?
    public var driftT0 = 20.0
    public var driftPoints = 12
    public var driftReads = 4

    public init() {}

    public var options: [FamilyOption] {
        [
            FamilyOption(
                "max-pulses", .integer(16...100_000),
                help: "Most pulses per device in each of the 3 sweeps and the restore (default 1000)."),
            FamilyOption("step-reads", .integer(1...64), help: "Reads averaged after every sweep step (default 4)."),
            FamilyOption(
                "pulse-budget", .integer(1...Int(Int32.max)),
                help: "Refuse when the calibration could send more pulses than this (default: no budget)."),
            FamilyOption(
                "pulse-amplitude", .number(0.001...1000),
                help: "SET amplitude, V; RESET uses its negative (default 2 V, or the board's largest when lower)."),
            FamilyOption("pulse-width", .number(0.001...1e12), help: "Pulse width, ns (default 100 ns)."),
            FamilyOption(
                "drift", .number(0.002...1e8),
                help: "Also measure drift ν: program every device, read the array at 12 log-spaced times from t0 to "
                    + "this many seconds after (real time on a board; at least 2 t0)."),
            FamilyOption(
                "drift-t0", .number(0.001...1e6),
                help: "t0 of G(t) = G0 (t/t0)^(−ν), s: the first read after programming (default 20 s)."),
        ]
    }

    public func configured(_ values: FamilyOptionValues) throws -> CrossbarCalibration {
        var out = self
        if let n = values.integer("max-pulses") { out.maxPulses = n }
        if let n = values.integer("step-reads") { out.stepReads = n }
        if let n = values.integer("pulse-budget") { out.pulseBudget = n }
        if let t = values.number("drift") { out.driftSeconds = t }
        if let t = values.number("drift-t0") { out.driftT0 = t }
        let amplitude = values.number("pulse-amplitude"), width = values.number("pulse-width")
        if amplitude != nil || width != nil {
            var shape = CrossbarPulseShape()
            if let a = amplitude { (shape.setAmplitude, shape.resetAmplitude) = (a, -a) }
            if let w = width { shape.width = w }
            out.pulseShape = shape
        }
        return out
    }

    /// The most pulses the procedure can send to an array of `devices`.
    public func pulseBound(devices: Int) -> Int { devices * 4 * maxPulses + (driftSeconds == nil ? 0 : 2 * devices) }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        guard let bench = substrate as? any CrossbarVerbs else {
            throw CrossbarCalibrationError.notACrossbar(device: substrate.descriptor.identity.serial)
        }
        let result: CrossbarCalibrationResult
        do {
            var session = CrossbarCalibrationSession(procedure: self, bench: bench, progress: progress)
            result = try await session.run()
        } catch {
            try? await bench.activateAllLines()
            throw error
        }
        let payload = try JSONValue(encoding: result, snakeCase: true)
        return CalibrationProfile(
            identity: substrate.descriptor.identity, procedure: name, procedureVersion: version,
            summary: [
                "twin_fidelity": result.twinFidelity, "pulses": Double(result.pulsesTotal),
                "stuck_devices": Double(result.stuckDevices.count), "read_noise": result.readNoise,
            ], payload: payload)
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(CrossbarCalibrationResult.self, for: profile.identity)
        let stuck = Set(r.stuckDevices)
        let working = r.gMinUs.indices.filter { !stuck.contains($0) }
        func mean(_ x: [Double]) -> Double { working.map { x[$0] }.reduce(0, +) / Double(max(working.count, 1)) }
        let window = mean(zip(r.gMaxUs, r.gMinUs).map { $0 - $1 })
        return [
            CalibrationFigure(
                key: "twin_fidelity", label: "twin fidelity", value: r.twinFidelity,
                display: String(
                    format: "%.2f (1.0 = as good as the noise allows; %.2f with ideal column ADCs)", r.twinFidelity,
                    r.twinFidelityIdealAdcs)),
            CalibrationFigure(
                key: "twin_fidelity_ideal_adcs", label: "twin fidelity, ideal ADCs", value: r.twinFidelityIdealAdcs,
                display: String(format: "%.2f", r.twinFidelityIdealAdcs)),
            CalibrationFigure(
                key: "pulses", label: "pulses sent", value: Double(r.pulsesTotal),
                display: "\(r.pulsesTotal) (bound \(r.pulseBound); board counted \(r.pulsesBoardCounted))"),
            CalibrationFigure(
                key: "mean_window_us", label: "mean window", value: window,
                display: String(format: "%.3g µS (Gmax − Gmin over %d devices)", window, working.count)),
            CalibrationFigure(
                key: "mean_alpha_set", label: "mean αset", value: mean(r.alphaSet),
                display: String(format: "%.4f", mean(r.alphaSet))),
            CalibrationFigure(
                key: "mean_alpha_reset", label: "mean αreset", value: mean(r.alphaReset),
                display: String(format: "%.4f (asymmetry αset/αreset %.2f)", mean(r.alphaReset), r.asymmetry)),
            CalibrationFigure(
                key: "read_noise", label: "read noise", value: r.readNoise,
                display: String(format: "%.2f %% of G per read", r.readNoise * 100)),
            CalibrationFigure(
                key: "write_noise", label: "write noise", value: r.writeNoise,
                display: String(format: "%.1f %% of each pulse's step", r.writeNoise * 100)),
            CalibrationFigure(
                key: "stuck_devices", label: "stuck devices", value: Double(r.stuckDevices.count),
                display: r.stuckDevices.isEmpty ? "none" : r.stuckDevices.map(String.init).joined(separator: ", ")),
            CalibrationFigure(
                key: "dead_columns", label: "dead columns", value: Double(r.deadColumns.count),
                display: r.deadColumns.isEmpty ? "none" : r.deadColumns.map(String.init).joined(separator: ", ")),
            CalibrationFigure(
                key: "output_noise_ua", label: "output noise", value: r.outputNoiseUa,
                display: String(format: "%.3g µA per measured output", r.outputNoiseUa)),
            CalibrationFigure(
                key: "warnings", label: "warnings", value: Double(r.warnings.count),
                display: r.warnings.isEmpty ? "none" : r.warnings.joined(separator: "; ")),
        ] + driftFigures(r)
    }

    func driftFigures(_ r: CrossbarCalibrationResult) -> [CalibrationFigure] {
        guard let mean = r.driftNuMean, let spread = r.driftNuSpread else { return [] }
        return [
            CalibrationFigure(
                key: "drift_nu_mean", label: "drift ν (mean)", value: mean,
                display: String(
                    format: "%.4f ± %.4f over devices (G ∝ (t/%.3g s)^−ν, read to %.3g s; %d pulses)", mean, spread,
                    r.driftT0 ?? 0, r.driftSeconds ?? 0, r.pulsesDrift ?? 0))
        ]
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let r = try profile.payload(CrossbarCalibrationResult.self, for: profile.identity)
        let c = CrossbarCalibrationComparison(result: r, truth: try CrossbarPhysics(importing: truth))
        func percent(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }
        return [
            CalibrationFigure(
                key: "window_error_max", label: "window error (max)", value: c.windowErrorMax,
                display: percent(c.windowErrorMax) + " of the device's window (RMS " + percent(c.windowErrorRMS) + ")"),
            CalibrationFigure(
                key: "g_max_relative_error_max", label: "Gmax error (max)", value: c.gMaxRelativeErrorMax,
                display: percent(c.gMaxRelativeErrorMax)),
            CalibrationFigure(
                key: "g_min_error_max_us", label: "Gmin error (max)", value: c.gMinErrorMaxUs,
                display: String(format: "%.3g µS", c.gMinErrorMaxUs)),
            CalibrationFigure(
                key: "read_noise_relative_error", label: "read noise error", value: c.readNoiseRelativeError,
                display: percent(c.readNoiseRelativeError)),
            CalibrationFigure(
                key: "write_noise_relative_error", label: "write noise error", value: c.writeNoiseRelativeError,
                display: percent(c.writeNoiseRelativeError)),
            CalibrationFigure(
                key: "alpha_set_relative_rms", label: "αset error (RMS)", value: c.alphaSetRelativeRMS,
                display: percent(c.alphaSetRelativeRMS)),
            CalibrationFigure(
                key: "alpha_reset_relative_rms", label: "αreset error (RMS)", value: c.alphaResetRelativeRMS,
                display: percent(c.alphaResetRelativeRMS)),
            CalibrationFigure(
                key: "stuck_true", label: "stuck devices (true)", value: Double(c.stuckTrue), display: "\(c.stuckTrue)"),
            CalibrationFigure(
                key: "stuck_missed", label: "stuck devices missed", value: Double(c.stuckMissed),
                display: "\(c.stuckMissed)"),
            CalibrationFigure(
                key: "stuck_false", label: "stuck devices reported falsely", value: Double(c.stuckFalse),
                display: "\(c.stuckFalse)"),
            CalibrationFigure(
                key: "dead_columns_missed", label: "dead columns missed", value: Double(c.deadColumnsMissed),
                display: "\(c.deadColumnsMissed)"),
            CalibrationFigure(
                key: "dead_columns_false", label: "dead columns reported falsely", value: Double(c.deadColumnsFalse),
                display: "\(c.deadColumnsFalse)"),
            CalibrationFigure(
                key: "adc_gain_error_max", label: "ADC gain error (max)", value: c.adcGainErrorMax,
                display: percent(c.adcGainErrorMax)),
            CalibrationFigure(
                key: "adc_offset_error_max_ua", label: "ADC offset error (max)", value: c.adcOffsetErrorMaxUa,
                display: String(
                    format: "%.3g µA = %.3f %% of full scale (largest true offset %.3g µA)", c.adcOffsetErrorMaxUa,
                    c.adcOffsetErrorMaxFullScale * 100, c.adcOffsetTrueMaxUa)),
            CalibrationFigure(
                key: "adc_offset_error_max_full_scale", label: "ADC offset error / full scale",
                value: c.adcOffsetErrorMaxFullScale, display: percent(c.adcOffsetErrorMaxFullScale)),
        ]
            + (c.driftNuMeanError.map { error in
                [
                    CalibrationFigure(
                        key: "drift_nu_mean_error", label: "drift ν error (mean)", value: error,
                        display: String(
                            format: "%.4f (true mean ν %.4f; per device RMS %.4f)", error, c.driftNuTrueMean ?? 0,
                            c.driftNuRMSError ?? 0)),
                    CalibrationFigure(
                        key: "drift_nu_rms_error", label: "drift ν error (RMS per device)", value: c.driftNuRMSError ?? 0,
                        display: String(format: "%.4f", c.driftNuRMSError ?? 0)),
                ]
            } ?? [])
    }
}

extension CrossbarFamily {
    public static var calibration: (any CalibrationProcedure)? { CrossbarCalibration() }

    /// A twin's exported state (an emulated board's state is not readable over the link:
    /// the crossbar command set has no debug verb).
    public static func hiddenTruth(of substrate: any Substrate) async throws -> Data? {
        guard let twin = substrate as? CrossbarTwin else { return nil }
        return try await twin.exportState()
    }
}
