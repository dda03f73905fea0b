import Foundation
import PNNCore

/// What the optional drift step measured (``CrossbarCalibration/driftSeconds``).
struct CrossbarDriftFit {
    /// Per device ν (0 for stuck devices), and its mean and standard deviation over working devices.
    var nu: [Double]
    var mean: Double
    var spread: Double
    /// Ages the array was read at, s after programming.
    var ages: [Double]
    /// Half the time the programming pulses took, s.
    var programmingUncertainty: Double
}

extension CrossbarCalibrationSession {
    /// Step 7 (`--drift SECONDS`): one RESET and one SET pulse per working device (the
    /// programming event drift counts from), then the array read `driftReads` times at
    /// `driftPoints` ages spaced logarithmically from t0 to `seconds`; per device a straight
    /// line through log G against log(age/t0) gives −ν (G(t) = G0 (t/t0)^(−ν), only ages ≥ t0
    /// used: a PCM-like device holds its level for about t0 first). The waits are real time on
    /// a board and simulated time on a twin.
    mutating func measureDrift(seconds: Double, stuck: Set<Int>) async throws -> CrossbarDriftFit {
        let t0 = procedure.driftT0
        let points = max(procedure.driftPoints, 3)
        guard seconds >= 2 * t0 else {
            throw CrossbarCalibrationError.outOfRange(
                "a drift measurement of \(seconds) s is too short: it reads from t0 = \(t0) s to at least 2 t0")
        }
        let working = (0..<devices).filter { !stuck.contains($0) }
        progress(Self.phases, Self.phases, "drift: programming \(working.count) devices")
        _ = try await bench.pulseRead(working.map { CrossbarPulse(device: $0, set: false) }, shape: shape)
        let setStart = try await bench.deviceSeconds()
        _ = try await bench.pulseRead(working.map { CrossbarPulse(device: $0, set: true) }, shape: shape)
        let setEnd = try await bench.deviceSeconds()
        pulsesDrift += 2 * working.count
        reads += 2 * working.count
        let programmed = (setStart + setEnd) / 2
        var ages: [Double] = []
        var levels: [[Double]] = []
        for k in 0..<points {
            let age = t0 * pow(seconds / t0, Double(k) / Double(points - 1))
            let now = try await bench.deviceSeconds()
            try await bench.wait(seconds: programmed + age - now)
            progress(
                Self.phases, Self.phases,
                String(format: "drift: read %d/%d at %.4g s after programming", k + 1, points, age))
            let start = try await bench.deviceSeconds()
            let r = try await readArray(procedure.driftReads)
            let end = try await bench.deviceSeconds()
            ages.append((start + end) / 2 - programmed)
            levels.append(r.means)
        }
        var nu = [Double](repeating: 0, count: devices)
        var fitted: [Double] = []
        let x = ages.map { log(max($0, 1e-12) / t0) }
        for d in working {
            let y = levels.map { $0[d] }
            let use = y.indices.filter { y[$0] > 0 && ages[$0] >= t0 * 0.999 }
            guard use.count >= 3, let line = LineFit.fit(use.map { x[$0] }, use.map { log(y[$0]) }) else { continue }
            nu[d] = -line.slope
            fitted.append(-line.slope)
        }
        guard !fitted.isEmpty else {
            throw CrossbarCalibrationError.unusable("no working device could be fitted for drift")
        }
        let mean = fitted.reduce(0, +) / Double(fitted.count)
        let spread = sqrt(fitted.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(fitted.count - 1, 1)))
        return CrossbarDriftFit(
            nu: nu, mean: mean, spread: spread, ages: ages, programmingUncertainty: (setEnd - setStart) / 2)
    }
}
