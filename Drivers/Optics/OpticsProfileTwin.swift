import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// `sim:optics --profile ID|FILE`: the twin of a calibrated optics rig. Each constant the
/// profile measured replaces the twin's nominal one — the LUT's stroke and γ (fitted to the
/// measured grey → phase table), the settle delay t0 and time constant b, the camera's black
/// level, gain (DN/e⁻) and read noise; everything else (the transmission matrix, fringing,
/// decorrelation, photon flux, QE, full well, dark current, bits, exposure, geometry) stays
/// nominal (Drivers/Optics/README.md).
extension OpticsFamily {
    /// The procedures whose profiles `sim:optics --profile` takes: the family's calibration
    /// (settle, LUT and camera in one profile; settle absent over links) or one of its parts.
    static var profileProcedures: [String] {
        [OpticsCalibration().name, OpticsLUTCalibration().name, OpticsSettleCalibration().name, OpticsCameraCalibration().name]
    }

    /// The profile document for `sim:optics`, refused unless it is an optics calibration.
    static func profile(for document: JSONValue) throws(TwinError) -> CalibrationProfile {
        try CalibrationProfile.forTwin(document, twin: "sim:optics", family: family, procedures: profileProcedures)
    }

    /// Puts the constants `profile` measured into `config` and returns the record of the
    /// profile the twin imitates (`twinSource`, plus `measured`: which parts the profile
    /// held, and `lut_fit_rms_rad`: how far the fitted stroke and γ lie from the measured table).
    static func imitate(_ profile: CalibrationProfile, in config: inout OpticsConfig) throws(TwinError) -> JSONValue {
        let name = "sim:optics"
        let parts = self.parts(of: profile)
        guard !parts.isEmpty else {
            throw .invalid(twin: name, why: "the \(profile.procedure) profile holds no LUT, settle or camera result")
        }
        func payload<T: Decodable>(_ key: String, _ type: T.Type) throws(TwinError) -> T? {
            guard let value = parts[key] else { return nil }
            var part = profile
            part.payload = value
            return try part.twinPayload(T.self, twin: name)
        }
        var extra: [String: JSONValue] = ["measured": .array(parts.keys.sorted().map { .string($0) })]
        if let lut = try payload("lut", OpticsLUTResult.self) {
            guard let fit = lutFit(greys: lut.greys, phases: lut.phasesRad) else {
                throw .invalid(twin: name, why: "the profile's LUT has too few grey levels above 0 to fit")
            }
            config.lutEnabled = true
            config.lutStroke = fit.stroke
            config.lutGamma = fit.gamma
            extra["lut_fit_rms_rad"] = .number(fit.rms)
        }
        if let settle = try payload("settle", OpticsSettleResult.self) {
            config.settlingEnabled = true
            config.settleDelay = settle.settleDelaySeconds
            config.settleTau = settle.settleTauSeconds
            config.exposureDelay = nil  // t0 + 4b: the settle time measured
        }
        if let camera = try payload("camera", OpticsCameraResult.self) {
            guard camera.gainDNPerElectron > 0, camera.gainDNPerElectron.isFinite else {
                throw .invalid(twin: name, why: "the profile's camera gain \(camera.gainDNPerElectron) DN/e⁻ is not positive")
            }
            // The measured DN/e⁻ at the twin's nominal analog gain.
            config.conversionGain = camera.gainDNPerElectron / pow(10, config.gain / 20)
            config.offset = camera.darkLevelDN
            config.readNoise = camera.readNoiseDN
            config.readNoiseEnabled = true
        }
        return profile.twinSource(extra: extra)
    }

    /// The measured parts of an optics profile by name (`lut`, `settle`, `camera`); a part
    /// the profile does not hold (settle over links) is left out.
    static func parts(of profile: CalibrationProfile) -> [String: JSONValue] {
        var parts: [String: JSONValue?]
        switch profile.procedure {
        case OpticsLUTCalibration().name: parts = ["lut": profile.payload]
        case OpticsSettleCalibration().name: parts = ["settle": profile.payload]
        case OpticsCameraCalibration().name: parts = ["camera": profile.payload]
        default:
            parts = ["lut": profile.payload["lut"], "settle": profile.payload["settle"], "camera": profile.payload["camera"]]
        }
        return parts.compactMapValues { value in value.flatMap { $0 == .null ? nil : $0 } }
    }

    /// The twin's LUT form φ(g) = 2π·stroke·(g/255)^γ fitted to a measured table (phases
    /// relative to grey 0) by least squares: γ on a log grid over the twin's range 0.2–5
    /// (steps of 0.13 %), the stroke solved exactly at each γ (clamped to the twin's (0, 4]).
    /// Nil with fewer than two grey levels above 0.
    public static func lutFit(greys: [Int], phases: [Double]) -> (stroke: Double, gamma: Double, rms: Double)? {
        let points = zip(greys, phases).filter { $0.0 > 0 && $0.0 <= 255 && $0.1.isFinite }
        guard points.count >= 2 else { return nil }
        var best: (stroke: Double, gamma: Double, sse: Double)?
        let steps = 2400
        for k in 0...steps {
            let gamma = 0.2 * pow(25, Double(k) / Double(steps))
            let x = points.map { 2 * Double.pi * pow(Double($0.0) / 255, gamma) }
            let sxx = x.reduce(0) { $0 + $1 * $1 }
            let sxy = zip(x, points).reduce(0) { $0 + $1.0 * $1.1.1 }
            let stroke = min(max(sxy / sxx, 1e-6), 4)
            let sse = zip(x, points).reduce(0) { $0 + pow(stroke * $1.0 - $1.1.1, 2) }
            if sse < best?.sse ?? .infinity { best = (stroke, gamma, sse) }
        }
        guard let best else { return nil }
        // The RMS over every measured grey level, grey 0 (φ = 0 by definition) included.
        let all = zip(greys, phases).filter { $0.1.isFinite }
        let sse = all.reduce(0) { $0 + pow(2 * Double.pi * best.stroke * pow(Double($1.0) / 255, best.gamma) - $1.1, 2) }
        return (best.stroke, best.gamma, (sse / Double(max(all.count, 1))).squareRoot())
    }
}
