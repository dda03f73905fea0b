import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// What the LUT calibration found: the phase of every grey level relative to grey 0.
public struct OpticsLUTResult: Sendable, Codable, Equatable {
    /// Grey levels measured.
    public var greys: [Int]
    /// Phase of each, rad, relative to grey 0.
    public var phasesRad: [Double]
    /// RMS distance of the measured points from the fitted ellipse (relative to its size).
    public var ellipseResidual: Double
}

extension OpticsLUTResult {
    enum CodingKeys: String, CodingKey {
        case greys
        case phasesRad = "phases_rad"
        case ellipseResidual = "ellipse_residual"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: OpticsResultKey.self)
        greys = try c.value([Int].self, "greys", formerly: "greys")
        phasesRad = try c.value([Double].self, "phases_rad", formerly: "phasesRad")
        ellipseResidual = try c.value(Double.self, "ellipse_residual", formerly: "ellipseResidual")
    }
}

/// The SLM's grey → phase table from interference of two SLM regions seen by the camera:
/// the first half of the trainable region stays at grey 0, the second half steps through
/// the grey levels. Each camera pixel sees |a + b·e^{iφ(g)}|², so the frames, projected on
/// their two principal components, trace an ellipse (an affine image of the circle
/// (cos φ, sin φ)); fitting the ellipse, mapping it back to a circle and unwrapping the
/// angle gives φ(g) − φ(0). Works on `sim:optics` and on an optics rig over links (there
/// the whole SLM: its upper half of macro-pixel rows at grey 0, the lower half stepping).
///
/// Fringing bends the ellipse: the macro-pixels along the boundary between the regions see
/// a blend of both phases (on the twin's 12-wide grid the default κ = 0.04 costs ~0.08 rad
/// RMS), so the fitted phases are corrected for the SLM's known κ (`fringing`): see
/// ``correctFringing(_:multipliers:pixels:iterations:)``.
public struct OpticsLUTCalibration: CalibrationProcedure {
    public var name: String { "optics-lut" }
    public var version: Int { 1 }
    public var summary: String { "SLM grey → phase table from two interfering SLM regions" }
    public var options: [FamilyOption] {
        [
            FamilyOption(
                "fringing", .number(0...0.2),
                help: "The SLM's fringing weight κ to correct the LUT for (default 0.04; 0: no correction).")
        ]
    }
    /// Fringing weight κ the fit corrects for (the SLM's documented fringe width / macro-pixel
    /// width); 0 turns the correction off.
    public var fringing = 0.04
    /// Grey levels measured (every `stride`-th, and 255).
    public var stride = 4
    public var repeats = 4

    public init() {}

    public func configured(_ values: FamilyOptionValues) throws -> OpticsLUTCalibration {
        var out = self
        if let k = values.number("fringing") { out.fringing = k }
        return out
    }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        if let rig = substrate as? OpticsRig { return try await run(on: rig, progress: progress) }
        guard let twin = substrate as? OpticsTwin else {
            throw CalibrationError.measurementFailed("the LUT calibration needs sim:optics or an optics rig")
        }
        let p = twin.descriptor.parameters.count
        guard p >= 2 else { throw CalibrationError.measurementFailed("two SLM regions need ≥ 2 trainable macro-pixels") }
        let greys = greyLevels
        var rows: [Double] = []
        var pixels = 0
        for (k, g) in greys.enumerated() {
            if k % 16 == 0 { progress(k, greys.count, "grey \(g)") }
            let pattern = (0..<p).map { $0 < p / 2 ? UInt8(0) : UInt8(g) }
            let frame = try await twin.stepResponse(
                from: pattern, to: pattern, delays: [0.5], exposure: 1000, repeats: repeats)[0]
            pixels = frame.count
            rows += frame
        }
        let config = await twin.snapshot().config
        return try fit(
            Matrix(rows: greys.count, cols: pixels, storage: rows), greys: greys, identity: twin.descriptor.identity,
            multipliers: Self.fringingMultipliers(
                gridWidth: config.resolvedGridWidth, macroPixels: config.macroPixels,
                stepped: Set((p / 2..<p).map(config.macroPixel(ofParameter:))), kappa: fringing),
            progress: progress)
    }

    /// Grey levels measured: every `stride`-th, and 255.
    var greyLevels: [Int] {
        var greys = Array(Swift.stride(from: 0, to: 256, by: stride))
        if greys.last != 255 { greys.append(255) }
        return greys
    }

    /// Over links: the whole SLM, its upper half of macro-pixel rows at grey 0 and the lower
    /// half stepping through the grey levels (one straight boundary), each pattern shown and
    /// grabbed `repeats` times with the rig's synchronisation.
    func run(on rig: OpticsRig, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws -> CalibrationProfile {
        let info = rig.slm.info
        let (w, h) = (info.width, info.height)
        guard h >= 2 else { throw CalibrationError.measurementFailed("two SLM regions need ≥ 2 macro-pixel rows") }
        let n = w * h
        let stepped = Set((h / 2 * w)..<n)
        let greys = greyLevels
        var rows: [Double] = []
        var pixels = 0
        for (k, g) in greys.enumerated() {
            if k % 16 == 0 { progress(k, greys.count, "grey \(g)") }
            let pattern = (0..<n).map { stepped.contains($0) ? UInt8(g) : 0 }
            let frames = try await rig.patternFrames(Array(repeating: pattern, count: repeats))
            pixels = frames[0].count
            var mean = [Double](repeating: 0, count: pixels)
            for f in frames { for i in 0..<pixels { mean[i] += f[i] / Double(frames.count) } }
            rows += mean
        }
        return try fit(
            Matrix(rows: greys.count, cols: pixels, storage: rows), greys: greys, identity: rig.descriptor.identity,
            multipliers: Self.fringingMultipliers(gridWidth: w, macroPixels: n, stepped: stepped, kappa: fringing),
            progress: progress)
    }

    /// The ellipse fit on frames taken at `greys` (one row each), corrected for fringing:
    /// `multipliers` are the cᵢ each macro-pixel shows in units of the stepped phase.
    func fit(
        _ frames: Matrix, greys: [Int], identity: DeviceIdentity, multipliers: [Double],
        progress: @escaping @Sendable (Int, Int, String) -> Void
    ) throws -> CalibrationProfile {
        progress(greys.count, greys.count, "fitting the ellipse")
        let (ellipse, residual) = try Self.phases(frames)
        var phases = ellipse
        if fringing > 0 {
            progress(greys.count, greys.count, "correcting for fringing")
            phases = try Self.correctFringing(ellipse, multipliers: multipliers, pixels: frames.cols)
        }
        let result = OpticsLUTResult(greys: greys, phasesRad: phases, ellipseResidual: residual)
        return CalibrationProfile(
            identity: identity, procedure: name, procedureVersion: version,
            summary: ["lut_stroke_rad": phases.last ?? 0], payload: try JSONValue(encoding: result))
    }

    /// cᵢ: the phase each macro-pixel shows, in units of the stepped region's phase, when the
    /// macro-pixels in `stepped` show φ and the rest 0, through the 4-neighbour fringing
    /// kernel of weight `kappa` (`PhaseSLM.fringed`, which is linear in φ).
    public static func fringingMultipliers(gridWidth: Int, macroPixels: Int, stepped: Set<Int>, kappa: Double) -> [Double] {
        var config = OpticsConfig()
        config.crosstalkEnabled = kappa > 0
        config.crosstalk = kappa
        config.inputs = macroPixels
        config.parameters = 0
        config.gridWidth = gridWidth
        return PhaseSLM(config: config).fringed((0..<macroPixels).map { stepped.contains($0) ? 1 : 0 })
    }

    /// The ellipse's bias under fringing, removed by a fixed-point iteration: find φ whose
    /// simulated calibration (noise-free frames |Σᵢ Tᵢ e^{i cᵢ φ}|² through random complex
    /// Gaussian media, the same geometry and pixel count) fits to the measured ellipse phases.
    public static func correctFringing(_ measured: [Double], multipliers: [Double], pixels: Int, iterations: Int = 3)
        throws -> [Double]
    {
        var estimate = measured
        for _ in 0..<iterations {
            let bias = try simulatedBias(estimate, multipliers: multipliers, pixels: pixels, media: [101, 202, 303])
            estimate = zip(measured, bias).map { $0 - $1 }
            estimate = estimate.map { $0 - estimate[0] }
        }
        return estimate
    }

    /// Mean over `media` of (ellipse fit of the simulated frames) − `phases`.
    static func simulatedBias(_ truth: [Double], multipliers c: [Double], pixels: Int, media: [UInt64]) throws -> [Double] {
        let g = truth.count
        let n = c.count
        var cosines = Matrix(rows: g, cols: n)
        var sines = Matrix(rows: g, cols: n)
        for r in 0..<g {
            for i in 0..<n {
                cosines[r, i] = cos(c[i] * truth[r])
                sines[r, i] = sin(c[i] * truth[r])
            }
        }
        var bias = [Double](repeating: 0, count: g)
        for seed in media {
            var rng = SeededRandom(seed: seed)
            let tr = Matrix(rows: n, cols: pixels, storage: (0..<(n * pixels)).map { _ in rng.normal() })
            let ti = Matrix(rows: n, cols: pixels, storage: (0..<(n * pixels)).map { _ in rng.normal() })
            let re = Matrix.product(cosines, tr) - Matrix.product(sines, ti)
            let im = Matrix.product(cosines, ti) + Matrix.product(sines, tr)
            var frames = Matrix(rows: g, cols: pixels)
            for k in frames.storage.indices { frames.storage[k] = re.storage[k] * re.storage[k] + im.storage[k] * im.storage[k] }
            let (fitted, _) = try Self.phases(frames)
            for r in 0..<g { bias[r] += (fitted[r] - (truth[r] - truth[0])) / Double(media.count) }
        }
        return bias
    }

    /// φ(g) − φ(g₀) for frames taken at increasing grey levels (one row each).
    public static func phases(_ frames: Matrix) throws -> (phases: [Double], residual: Double) {
        var centred = frames
        for c in 0..<frames.cols {
            var m = 0.0
            for r in 0..<frames.rows { m += frames[r, c] }
            m /= Double(frames.rows)
            for r in 0..<frames.rows { centred[r, c] -= m }
        }
        let svd = try centred.svd()
        let x = (0..<frames.rows).map { svd.u[$0, 0] * svd.singularValues[0] }
        let y = (0..<frames.rows).map { svd.u[$0, 1] * svd.singularValues[1] }
        // Conic A x² + B xy + C y² + D x + E y + F = 0: the smallest right singular vector.
        let scale = max(x.map(abs).max() ?? 1, y.map(abs).max() ?? 1, 1e-300)
        let xs = x.map { $0 / scale }
        let ys = y.map { $0 / scale }
        var design = Matrix(rows: xs.count, cols: 6)
        for i in xs.indices {
            let row = [xs[i] * xs[i], xs[i] * ys[i], ys[i] * ys[i], xs[i], ys[i], 1]
            for c in 0..<6 { design[i, c] = row[c] }
        }
        let conic = try design.svd().vt.row(5)
        let (a, b, c, d, e, f) = (conic[0], conic[1], conic[2], conic[3], conic[4], conic[5])
        let det = 4 * a * c - b * b
        guard det > 0 else { throw CalibrationError.measurementFailed("the interference points do not lie on an ellipse") }
        let x0 = (b * e - 2 * c * d) / det
        let y0 = (b * d - 2 * a * e) / det
        let k = -(a * x0 * x0 + b * x0 * y0 + c * y0 * y0 + d * x0 + e * y0 + f)
        // Q = [[a, b/2], [b/2, c]] / k; w = Q^{1/2}·(p − p0) lies on the unit circle.
        let q11 = a / k
        let q12 = b / (2 * k)
        let q22 = c / k
        let tr = q11 + q22
        let disc = ((q11 - q22) * (q11 - q22) / 4 + q12 * q12).squareRoot()
        let l1 = tr / 2 + disc
        let l2 = tr / 2 - disc
        guard l1 > 0, l2 > 0 else { throw CalibrationError.measurementFailed("degenerate interference ellipse") }
        let theta = 0.5 * atan2(2 * q12, q11 - q22)
        let (ct, st) = (cos(theta), sin(theta))
        var angles: [Double] = []
        var residual = 0.0
        for i in xs.indices {
            let px = xs[i] - x0
            let py = ys[i] - y0
            let u = (ct * px + st * py) * l1.squareRoot()
            let v = (-st * px + ct * py) * l2.squareRoot()
            angles.append(atan2(v, u))
            residual += pow((u * u + v * v).squareRoot() - 1, 2)
        }
        var unwrapped = [0.0]
        for i in 1..<angles.count {
            var dphi = angles[i] - angles[i - 1]
            while dphi > .pi { dphi -= 2 * .pi }
            while dphi < -.pi { dphi += 2 * .pi }
            unwrapped.append(unwrapped[i - 1] + dphi)
        }
        let sign: Double = (unwrapped.last ?? 0) < 0 ? -1 : 1
        return (unwrapped.map { sign * $0 }, (residual / Double(max(xs.count, 1))).squareRoot())
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsLUTResult.self, for: profile.identity)
        let lut = try JSONDecoder().decode(OpticsStateDocument.self, from: truth).slm.lut
        var sum = 0.0
        for (g, phi) in zip(r.greys, r.phasesRad) { sum += pow(phi - (lut[g] - lut[0]), 2) }
        let rms = (sum / Double(max(r.greys.count, 1))).squareRoot()
        return [
            CalibrationFigure(
                key: "lut_rms_error_rad", label: "LUT error (RMS)", value: rms,
                display: String(format: "%.3f rad over %d grey levels", rms, r.greys.count))
        ]
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsLUTResult.self, for: profile.identity)
        let stroke = r.phasesRad.last ?? 0
        return [
            CalibrationFigure(
                key: "lut_stroke_rad", label: "phase at grey 255", value: stroke,
                display: String(format: "%.3f rad (%.3f·2π)", stroke, stroke / (2 * .pi)))
        ]
    }
}
