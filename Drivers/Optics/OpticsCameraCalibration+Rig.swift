import Foundation
import PNNCalibration
import PNNCore

extension OpticsCameraCalibration {
    /// The camera calibration over the links, through an optics rig. A rig has no shutter,
    /// so there are no dark frames: one static speckle pattern (the whole SLM at grey 0) is
    /// grabbed `frames` times at each exposure; per pixel the temporal mean μ(t) and variance
    /// v(t) (from successive differences, so a slowly drifting speckle adds none). The black level is where the means extrapolate at zero exposure (each pixel's
    /// line μ(t) = b + s·t, intercepts averaged over the pixels unsaturated at every
    /// exposure); the photon-transfer line v = g·(μ − b) + c (weighted by 1/v²) gives the gain g,
    /// and its intercept c = σ²_read + 1/12 DN² the read noise.
    func run(on rig: OpticsRig, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        let range = rig.camera.info.exposure
        let used = exposures.filter { range.contains($0) }
        guard used.count >= 3 else {
            throw CalibrationError.measurementFailed(
                "the camera's exposure range \(range.lowerBound)…\(range.upperBound) µs holds fewer than 3 of \(exposures) µs")
        }
        let pattern = [UInt8](repeating: 0, count: rig.slm.info.patternBytes)
        var means: [[Double]] = []
        var variances: [[Double]] = []
        var peaks: [[Double]] = []
        for (k, e) in used.enumerated() {
            progress(k, used.count + 1, "photon transfer at \(Int(e)) µs")
            let series = try await rig.patternFrames(Array(repeating: pattern, count: frames), exposure: e)
            guard let width = series.first?.count, width > 0, series.allSatisfy({ $0.count == width }) else {
                throw CalibrationError.measurementFailed("the camera returned frames of different sizes")
            }
            let n = Double(series.count)
            var mu = [Double](repeating: 0, count: width)
            var v = [Double](repeating: 0, count: width)
            var hi = [Double](repeating: 0, count: width)
            for p in 0..<width {
                var s = 0.0
                var dd = 0.0
                for (k, f) in series.enumerated() {
                    s += f[p]
                    hi[p] = max(hi[p], f[p])
                    if k > 0 { dd += (f[p] - series[k - 1][p]) * (f[p] - series[k - 1][p]) }
                }
                mu[p] = s / n
                // Temporal variance from successive differences (EMVA 1288): blind to the slow
                // drift of a speckle whose medium decorrelates while the series is taken.
                v[p] = dd / (2 * (n - 1))
            }
            means.append(mu)
            variances.append(v)
            peaks.append(hi)
        }
        let top = pow(2, Double(rig.camera.info.bits)) - 1
        let pixels = means[0].count
        // Pixels unsaturated (ADC or full well) at every exposure.
        let usable = (0..<pixels).filter { p in used.indices.allSatisfy { peaks[$0][p] < 0.6 * top } }
        guard usable.count > 10 else { throw CalibrationError.measurementFailed("too few unsaturated pixels") }
        var intercepts = 0.0
        for p in usable { intercepts += Self.line(used.indices.map { (used[$0], means[$0][p]) }).intercept }
        let black = intercepts / Double(usable.count)
        var points: [(mu: Double, v: Double)] = []
        for p in usable { for k in used.indices { points.append((means[k][p] - black, variances[k][p])) } }
        // A variance estimated from n frames scatters in proportion to itself, so the
        // brightest pixels would decide an unweighted fit: weight each point by 1/v², with v
        // the fitted line's (two passes, starting from the unweighted line).
        var fit = Self.line(points)
        for _ in 0..<2 {
            let w = points.map { p -> Double in
                let v = max(fit.slope * p.mu + fit.intercept, 1e-6)
                return 1 / (v * v)
            }
            fit = Self.weightedLine(points, weights: w)
        }
        let result = OpticsCameraResult(
            darkLevelDN: black, gainDNPerElectron: fit.slope, readNoiseDN: max(0, fit.intercept - 1.0 / 12).squareRoot(),
            exposuresMicroseconds: used, pixelsUsed: usable.count)
        progress(used.count + 1, used.count + 1, "fitted")
        return CalibrationProfile(
            identity: rig.descriptor.identity, procedure: name, procedureVersion: version,
            summary: ["dark_level_dn": black, "gain_dn_per_e": fit.slope, "read_noise_dn": result.readNoiseDN],
            payload: try JSONValue(encoding: result))
    }

    /// Weighted least-squares line v = slope·μ + intercept.
    static func weightedLine(_ points: [(mu: Double, v: Double)], weights w: [Double]) -> (slope: Double, intercept: Double) {
        var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
        for (p, wi) in zip(points, w) {
            sw += wi
            sx += wi * p.mu
            sy += wi * p.v
            sxx += wi * p.mu * p.mu
            sxy += wi * p.mu * p.v
        }
        let slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
        return (slope, (sy - slope * sx) / sw)
    }
}
