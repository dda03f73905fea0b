import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// What the settle calibration found: the fitted step response and the settle time.
public struct OpticsSettleResult: Sendable, Codable, Equatable {
    /// Delay t0 before the crystal moves, s.
    public var settleDelaySeconds: Double
    /// Time constant b, s.
    public var settleTauSeconds: Double
    /// t0 + 4b, s.
    public var settleTimeSeconds: Double
    /// Delays of the fine scan, s, and the response there (0: old pattern, 1: new pattern).
    public var delaysSeconds: [Double]
    public var response: [Double]
    /// RMS residual of the fit.
    public var residual: Double
}

extension OpticsSettleResult {
    enum CodingKeys: String, CodingKey {
        case settleDelaySeconds = "settle_delay_s"
        case settleTauSeconds = "settle_tau_s"
        case settleTimeSeconds = "settle_time_s"
        case delaysSeconds = "delays_s"
        case response, residual
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: OpticsResultKey.self)
        settleDelaySeconds = try c.value(Double.self, "settle_delay_s", formerly: "settleDelaySeconds")
        settleTauSeconds = try c.value(Double.self, "settle_tau_s", formerly: "settleTauSeconds")
        settleTimeSeconds = try c.value(Double.self, "settle_time_s", formerly: "settleTimeSeconds")
        delaysSeconds = try c.value([Double].self, "delays_s", formerly: "delaysSeconds")
        response = try c.value([Double].self, "response", formerly: "response")
        residual = try c.value(Double.self, "residual", formerly: "residual")
    }
}

/// The SLM's settle time from a step response, as slmsuite measures it: the trainable
/// region steps by a few grey levels (a small phase change, so the camera's response is
/// linear in the crystal's progress), frames are taken at `delays` delays after the change,
/// each frame is projected on the difference between the settled new and old frames, and
/// y(t) = c − a·e^{−(t−t0)/b} (y = c − a before t0) is fitted; settle = t0 + 4b. A coarse
/// scan over 0–200 ms finds the scale, a fine scan over 0–1.5× the coarse settle time
/// measures it. Works on `sim:optics` and over links on an optics rig (the camera's
/// TriggerDelay after a software trigger sent right after the show).
public struct OpticsSettleCalibration: CalibrationProcedure {
    public var name: String { "optics-settle" }
    public var version: Int { 1 }
    public var summary: String { "SLM settle time t0 + 4b from a step response seen by the camera" }
    public var options: [FamilyOption] {
        [
            FamilyOption("delays", .integer(8...200), help: "Delays per scan (default 21, as slmsuite)."),
            FamilyOption("repeats", .integer(1...64), help: "Frames averaged per delay (default 4)."),
        ]
    }
    public var delayCount = 21
    public var repeats = 4
    /// Grey-level step of the trainable region.
    public var step = 12
    /// Exposure of the scan frames, µs (short, to resolve the response).
    public var exposure = 100.0

    public init() {}

    public func configured(_ values: FamilyOptionValues) throws -> OpticsSettleCalibration {
        var out = self
        if let n = values.integer("delays") { out.delayCount = n }
        if let n = values.integer("repeats") { out.repeats = n }
        return out
    }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        let response: @Sendable ([UInt8], [UInt8], [Double], Double, Int) async throws -> [[Double]]
        let layout: OpticsLayout
        if let twin = substrate as? OpticsTwin {
            response = { try await twin.stepResponse(from: $0, to: $1, delays: $2, exposure: $3, repeats: $4) }
            layout = await twin.snapshot().config.layout
        } else if let rig = substrate as? OpticsRig {
            // Over links the camera waits TriggerDelay after a software trigger sent right after the show.
            response = { try await rig.stepResponse(from: $0, to: $1, delays: $2, exposure: $3, repeats: $4) }
            layout = rig.layout
        } else {
            throw CalibrationError.measurementFailed("the settle calibration needs sim:optics or an optics rig")
        }
        let p = substrate.descriptor.parameters.count
        guard p > (layout == .overlay ? 1 : 0) else {
            throw CalibrationError.measurementFailed("the device has too few trainable macro-pixels to step")
        }
        let from = [UInt8](repeating: 96, count: p)
        // Side by side the trainable region steps against the blank input region. Overlaid,
        // the trainable grey levels may cover the whole SLM, and a uniform phase step is a
        // global phase the camera cannot see: there only the second half steps.
        let to = (0..<p).map { j in layout == .overlay && j < p / 2 ? UInt8(96) : UInt8(96 + step) }
        let ends = try await response(from, to, [0, 1], exposure, 4 * repeats)
        let (old, new) = (ends[0], ends[1])
        func scan(upTo span: Double, _ what: String, _ k: Int) async throws -> (delays: [Double], y: [Double]) {
            progress(k, 2, what)
            let delays = (0..<delayCount).map { span * Double($0) / Double(delayCount - 1) }
            let frames = try await response(from, to, delays, exposure, repeats)
            return (delays, frames.map { Self.project($0, old: old, new: new) })
        }
        let coarse = try await scan(upTo: 0.2, "coarse scan 0–200 ms", 0)
        let rough = Self.fit(coarse.delays, coarse.y)
        let fine = try await scan(upTo: max(1.5 * (rough.t0 + 4 * rough.b), 1e-3), "fine scan", 1)
        let f = Self.fit(fine.delays, fine.y)
        progress(2, 2, "fitted")
        let result = OpticsSettleResult(
            settleDelaySeconds: f.t0, settleTauSeconds: f.b, settleTimeSeconds: f.t0 + 4 * f.b, delaysSeconds: fine.delays,
            response: fine.y, residual: f.rms)
        return CalibrationProfile(
            identity: substrate.descriptor.identity, procedure: name, procedureVersion: version,
            summary: ["settle_time_s": result.settleTimeSeconds, "settle_delay_s": f.t0, "settle_tau_s": f.b],
            payload: try JSONValue(encoding: result))
    }

    /// Progress of a frame from the old to the new pattern: ⟨I − I_old, I_new − I_old⟩ / |I_new − I_old|².
    static func project(_ frame: [Double], old: [Double], new: [Double]) -> Double {
        var num = 0.0
        var den = 0.0
        for i in frame.indices {
            let d = new[i] - old[i]
            num += (frame[i] - old[i]) * d
            den += d * d
        }
        return den > 0 ? num / den : 0
    }

    /// Least-squares fit of y = c − a·g(t), g = 1 before t0 and e^{−(t−t0)/b} after: a grid
    /// over t0 and b with c and a solved exactly at each point.
    public static func fit(_ t: [Double], _ y: [Double]) -> (t0: Double, b: Double, c: Double, a: Double, rms: Double) {
        let span = max(t.last ?? 1, 1e-6)
        var best = (t0: 0.0, b: span, c: 0.0, a: 0.0, sse: Double.infinity)
        for i in 0...120 {
            let t0 = span * Double(i) / 200
            for j in 0...120 {
                let b = span * pow(10, -3 + 3 * Double(j) / 120)
                let g = t.map { $0 < t0 ? 1 : exp(-($0 - t0) / b) }
                let n = Double(t.count)
                let sg = g.reduce(0, +)
                let sgg = g.reduce(0) { $0 + $1 * $1 }
                let sy = y.reduce(0, +)
                let sgy = zip(g, y).reduce(0) { $0 + $1.0 * $1.1 }
                let det = n * sgg - sg * sg
                guard abs(det) > 1e-12 else { continue }
                // y = c + m·g with m = −a.
                let m = (n * sgy - sg * sy) / det
                let c = (sy - m * sg) / n
                let sse = zip(g, y).reduce(0) { $0 + pow($1.1 - c - m * $1.0, 2) }
                if sse < best.sse { best = (t0, b, c, -m, sse) }
            }
        }
        return (best.t0, best.b, best.c, best.a, (best.sse / Double(max(t.count, 1))).squareRoot())
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsSettleResult.self, for: profile.identity)
        let state = try JSONDecoder().decode(OpticsStateDocument.self, from: truth)
        let trueSettle = state.slm.settling ? state.slm.settleDelay + 4 * state.slm.settleTau : 0
        let error = trueSettle > 0 ? (r.settleTimeSeconds - trueSettle) / trueSettle : r.settleTimeSeconds
        return [
            CalibrationFigure(
                key: "settle_time_relative_error", label: "settle time error", value: error,
                display: String(
                    format: "%+.1f %% (fitted %.2f ms, true %.2f ms)", 100 * error, 1000 * r.settleTimeSeconds, 1000 * trueSettle)
            )
        ]
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsSettleResult.self, for: profile.identity)
        return [
            CalibrationFigure(
                key: "settle_time_s", label: "settle time t0 + 4b", value: r.settleTimeSeconds,
                display: String(format: "%.2f ms", 1000 * r.settleTimeSeconds)),
            CalibrationFigure(
                key: "settle_delay_s", label: "t0", value: r.settleDelaySeconds,
                display: String(format: "%.2f ms", 1000 * r.settleDelaySeconds)),
            CalibrationFigure(
                key: "settle_tau_s", label: "b", value: r.settleTauSeconds,
                display: String(format: "%.2f ms", 1000 * r.settleTauSeconds)),
        ]
    }
}

extension OpticsFamily {
    public static var calibration: (any CalibrationProcedure)? { OpticsCalibration() }
}

/// The optics family's calibration (`pnnlab calibrate sim:optics`): the SLM's settle time
/// (`OpticsSettleCalibration`), its grey → phase table (`OpticsLUTCalibration`) and the
/// camera's black level, gain and read noise (`OpticsCameraCalibration`), one profile with
/// all three results.
public struct OpticsCalibration: CalibrationProcedure {
    public var name: String { "optics" }
    public var version: Int { 1 }
    public var summary: String { "SLM settle time (step response), SLM LUT (interference), camera black level, gain, read noise" }
    public var settle = OpticsSettleCalibration()
    public var lut = OpticsLUTCalibration()
    public var camera = OpticsCameraCalibration()
    public var options: [FamilyOption] { settle.options + lut.options + camera.options }

    public init() {}

    public func configured(_ values: FamilyOptionValues) throws -> OpticsCalibration {
        var out = self
        out.settle = try settle.configured(values)
        out.lut = try lut.configured(values)
        out.camera = try camera.configured(values)
        return out
    }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        let s: CalibrationProfile? = try await settle.run(on: substrate) { done, _, what in
            progress(done, 12, "settle: \(what)")
        }
        let l = try await lut.run(on: substrate) { done, total, what in
            progress(3 + 4 * done / max(total, 1), 12, "LUT: \(what)")
        }
        let c = try await camera.run(on: substrate) { done, total, what in
            progress(7 + 5 * done / max(total, 1), 12, "camera: \(what)")
        }
        return CalibrationProfile(
            identity: substrate.descriptor.identity, procedure: name, procedureVersion: version,
            summary: (s?.summary ?? [:]).merging(l.summary) { a, _ in a }.merging(c.summary) { a, _ in a },
            payload: .object(["settle": s?.payload ?? .null, "lut": l.payload, "camera": c.payload]))
    }

    /// One procedure's profile inside an `optics` profile.
    func part(_ profile: CalibrationProfile, _ key: String) throws -> CalibrationProfile {
        guard let payload = profile.payload[key] else {
            throw CalibrationError.unreadable("an optics profile holds settle, lut and camera results; \(key) is missing")
        }
        var out = profile
        out.payload = payload
        return out
    }

    /// Whether the profile holds a settle result (not over links).
    func hasSettle(_ profile: CalibrationProfile) -> Bool { profile.payload["settle"].map { $0 != .null } ?? false }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        try (hasSettle(profile) ? settle.compare(part(profile, "settle"), truth: truth) : [])
            + lut.compare(part(profile, "lut"), truth: truth) + camera.compare(part(profile, "camera"), truth: truth)
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        try (hasSettle(profile) ? settle.headline(part(profile, "settle")) : []) + lut.headline(part(profile, "lut"))
            + camera.headline(part(profile, "camera"))
    }
}

/// What the camera calibration found.
public struct OpticsCameraResult: Sendable, Codable, Equatable {
    /// Mean DN of dark frames at the shortest exposure (the black level).
    public var darkLevelDN: Double
    /// DN per electron, from the photon-transfer curve's slope.
    public var gainDNPerElectron: Double
    /// Read noise, DN rms, from the dark frames' temporal variance (quantisation's 1/12 DN² removed).
    public var readNoiseDN: Double
    /// Exposures of the photon-transfer series, µs, and pixels used.
    public var exposuresMicroseconds: [Double]
    public var pixelsUsed: Int
}

extension OpticsCameraResult {
    enum CodingKeys: String, CodingKey {
        case darkLevelDN = "dark_level_dn"
        case gainDNPerElectron = "gain_dn_per_e"
        case readNoiseDN = "read_noise_dn"
        case exposuresMicroseconds = "exposures_us"
        case pixelsUsed = "pixels_used"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: OpticsResultKey.self)
        darkLevelDN = try c.value(Double.self, "dark_level_dn", formerly: "darkLevelDN")
        gainDNPerElectron = try c.value(Double.self, "gain_dn_per_e", formerly: "gainDNPerElectron")
        readNoiseDN = try c.value(Double.self, "read_noise_dn", formerly: "readNoiseDN")
        exposuresMicroseconds = try c.value([Double].self, "exposures_us", formerly: "exposuresMicroseconds")
        pixelsUsed = try c.value(Int.self, "pixels_used", formerly: "pixelsUsed")
    }
}

/// The camera's black level, gain and read noise: dark frames at the shortest exposure
/// (their mean is the black level, their temporal variance the read noise), then a
/// photon-transfer series — `frames` frames of a static speckle pattern at several
/// exposures; per pixel the temporal mean μ and variance v; v = g·(μ − dark) + const fitted
/// over every unsaturated pixel and exposure (EMVA 1288's method, with speckle instead of
/// a flat field: each pixel is its own flat field). Works on `sim:optics`.
public struct OpticsCameraCalibration: CalibrationProcedure {
    public var name: String { "optics-camera" }
    public var version: Int { 1 }
    public var summary: String { "camera black level, gain (photon-transfer curve) and read noise" }
    public var options: [FamilyOption] {
        [FamilyOption("frames", .integer(4...256), help: "Frames per exposure (default 16).")]
    }
    public var frames = 16
    public var exposures: [Double] = [100, 200, 400, 700, 1000]

    public init() {}

    public func configured(_ values: FamilyOptionValues) throws -> OpticsCameraCalibration {
        var out = self
        if let n = values.integer("frames") { out.frames = n }
        return out
    }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        if let rig = substrate as? OpticsRig { return try await run(on: rig, progress: progress) }
        guard let twin = substrate as? OpticsTwin else {
            throw CalibrationError.measurementFailed("the camera calibration needs sim:optics or an optics rig")
        }
        let total = exposures.count + 1
        progress(0, total, "dark frames")
        let darkFrames = try await twin.staticFrames(dark: true, exposure: OpticsTwin.exposureRange.lowerBound, count: frames)
        let dark = darkFrames.flatMap { $0 }.reduce(0, +) / Double(darkFrames.count * max(darkFrames[0].count, 1))
        // Read noise: the dark frames' temporal variance per pixel, averaged (quantisation's 1/12 DN² removed).
        var darkVariance = 0.0
        for p in 0..<darkFrames[0].count {
            let values = darkFrames.map { $0[p] }
            let m = values.reduce(0, +) / Double(values.count)
            darkVariance += values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
        }
        darkVariance /= Double(max(darkFrames[0].count, 1))
        let top = twin.descriptor.outputs.upper
        var points: [(mu: Double, v: Double)] = []
        for (k, e) in exposures.enumerated() {
            progress(k + 1, total, "photon transfer at \(Int(e)) µs")
            let series = try await twin.staticFrames(dark: false, exposure: e, count: frames)
            let n = Double(series.count)
            for p in 0..<series[0].count {
                var s = 0.0
                var ss = 0.0
                var hi = 0.0
                for f in series {
                    s += f[p]
                    ss += f[p] * f[p]
                    hi = max(hi, f[p])
                }
                let mu = s / n
                // Pixels near saturation (ADC or full well) are left out.
                guard hi < 0.6 * top, mu - dark < 0.5 * (top - dark) else { continue }
                points.append((mu - dark, max(0, (ss - n * mu * mu) / (n - 1))))
            }
        }
        guard points.count > 10 else { throw CalibrationError.measurementFailed("too few unsaturated pixels") }
        let g = Self.line(points).slope
        let result = OpticsCameraResult(
            darkLevelDN: dark, gainDNPerElectron: g, readNoiseDN: max(0, darkVariance - 1.0 / 12).squareRoot(),
            exposuresMicroseconds: exposures, pixelsUsed: points.count)
        progress(total, total, "fitted")
        return CalibrationProfile(
            identity: twin.descriptor.identity, procedure: name, procedureVersion: version,
            summary: ["dark_level_dn": dark, "gain_dn_per_e": g, "read_noise_dn": result.readNoiseDN],
            payload: try JSONValue(encoding: result))
    }

    /// Least-squares line v = slope·μ + intercept through the points.
    static func line(_ points: [(mu: Double, v: Double)]) -> (slope: Double, intercept: Double) {
        let m = Double(points.count)
        let sx = points.reduce(0) { $0 + $1.mu }
        let sy = points.reduce(0) { $0 + $1.v }
        let sxx = points.reduce(0) { $0 + $1.mu * $1.mu }
        let sxy = points.reduce(0) { $0 + $1.mu * $1.v }
        let slope = (m * sxy - sx * sy) / (m * sxx - sx * sx)
        return (slope, (sy - slope * sx) / m)
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsCameraResult.self, for: profile.identity)
        let c = try JSONDecoder().decode(OpticsStateDocument.self, from: truth).config
        let trueGain = c.conversionGain * pow(10, c.gain / 20)
        let trueRead = c.readNoiseEnabled ? c.readNoise : 0
        let gainError = (r.gainDNPerElectron - trueGain) / trueGain
        let darkError = r.darkLevelDN - c.offset
        return [
            CalibrationFigure(
                key: "gain_relative_error", label: "gain error", value: gainError,
                display: String(format: "%+.2f %% (fitted %.4f, true %.4f DN/e⁻)", 100 * gainError, r.gainDNPerElectron, trueGain)
            ),
            CalibrationFigure(
                key: "dark_level_error_dn", label: "dark level error", value: darkError,
                display: String(format: "%+.2f DN (fitted %.2f, true offset %.2f DN)", darkError, r.darkLevelDN, c.offset)),
            CalibrationFigure(
                key: "read_noise_error_dn", label: "read noise error", value: r.readNoiseDN - trueRead,
                display: String(
                    format: "%+.2f DN (fitted %.2f, true %.2f DN rms)", r.readNoiseDN - trueRead, r.readNoiseDN, trueRead)),
        ]
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsCameraResult.self, for: profile.identity)
        return [
            CalibrationFigure(
                key: "dark_level_dn", label: "black level", value: r.darkLevelDN,
                display: String(format: "%.2f DN", r.darkLevelDN)),
            CalibrationFigure(
                key: "gain_dn_per_e", label: "gain", value: r.gainDNPerElectron,
                display: String(format: "%.4f DN/e⁻ (%.2f e⁻/DN)", r.gainDNPerElectron, 1 / r.gainDNPerElectron)),
            CalibrationFigure(
                key: "read_noise_dn", label: "read noise", value: r.readNoiseDN,
                display: String(format: "%.2f DN rms", r.readNoiseDN)),
        ]
    }
}
