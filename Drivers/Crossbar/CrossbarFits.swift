import Foundation

/// A soft-bounds pulse sweep fitted as G_k = bound + (G₀ − bound)·(1 − α)^k: what a train
/// of identical pulses does to a device whose every pulse moves it by α × its distance to
/// the bound (the twin's and PCM/RRAM models' soft bounds).
struct SoftBoundsFit: Sendable, Equatable {
    /// The conductance the sweep converges to, µS (Gmax for SET, Gmin for RESET).
    var bound: Double
    /// Step fraction per pulse.
    var alpha: Double
    /// Fitted start, µS.
    var start: Double

    /// Fraction of the sweep's distance still to go after the last step.
    func remaining(after steps: Int) -> Double { pow(1 - alpha, Double(steps)) }

    /// Fits `means` (the averaged read after 0, 1, 2, … pulses) with weights from `variance`
    /// (per point, µS²): a grid over log α, then golden-section refinement; (bound, start)
    /// by weighted least squares at each α. Nil when the sweep has too few points or no
    /// trend at all.
    static func fit(_ means: [Double], variance: (Int, Double) -> Double) -> SoftBoundsFit? {
        let n = means.count
        guard n >= 4 else { return nil }
        let weights = means.indices.map { 1 / max(variance($0, means[$0]), 1e-12) }
        func solve(_ alpha: Double) -> (cost: Double, bound: Double, start: Double) {
            // means_k ≈ a + c·x_k with x_k = r^k; weighted normal equations.
            let r = 1 - alpha
            var x = 1.0
            var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            for k in 0..<n {
                let w = weights[k], y = means[k]
                sw += w
                sx += w * x
                sy += w * y
                sxx += w * x * x
                sxy += w * x * y
                x *= r
            }
            let det = sw * sxx - sx * sx
            guard abs(det) > 1e-300 else { return (.infinity, .nan, .nan) }
            let c = (sw * sxy - sx * sy) / det
            let a = (sy - c * sx) / sw
            x = 1
            var cost = 0.0
            for k in 0..<n {
                let e = means[k] - a - c * x
                cost += weights[k] * e * e
                x *= r
            }
            return (cost, a, a + c)
        }
        let lo = log(1e-4), hi = log(0.9)
        let grid = 72
        var best = (index: 0, cost: Double.infinity)
        var logs: [Double] = []
        for i in 0...grid {
            let la = lo + (hi - lo) * Double(i) / Double(grid)
            logs.append(la)
            let c = solve(exp(la)).cost
            if c < best.cost { best = (i, c) }
        }
        var a = logs[max(0, best.index - 1)], b = logs[min(grid, best.index + 1)]
        let phi = (sqrt(5.0) - 1) / 2
        var c1 = b - phi * (b - a), c2 = a + phi * (b - a)
        var f1 = solve(exp(c1)).cost, f2 = solve(exp(c2)).cost
        for _ in 0..<40 {
            if f1 < f2 {
                (b, c2, f2) = (c2, c1, f1)
                c1 = b - phi * (b - a)
                f1 = solve(exp(c1)).cost
            } else {
                (a, c1, f1) = (c1, c2, f2)
                c2 = a + phi * (b - a)
                f2 = solve(exp(c2)).cost
            }
        }
        let alpha = exp((a + b) / 2)
        let s = solve(alpha)
        guard s.bound.isFinite, s.start.isFinite else { return nil }
        return SoftBoundsFit(bound: s.bound, alpha: alpha, start: s.start)
    }
}

/// Straight-line statistics used by the procedure.
enum LineFit {
    /// Ordinary least squares y = slope·x + intercept; nil with fewer than 3 points or no spread in x.
    static func fit(_ x: [Double], _ y: [Double]) -> (slope: Double, intercept: Double, residualRMS: Double)? {
        let n = Double(x.count)
        guard x.count == y.count, x.count >= 3 else { return nil }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for i in x.indices {
            sxx += (x[i] - mx) * (x[i] - mx)
            sxy += (x[i] - mx) * (y[i] - my)
        }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        let intercept = my - slope * mx
        var ss = 0.0
        for i in x.indices { ss += pow(y[i] - slope * x[i] - intercept, 2) }
        return (slope, intercept, sqrt(ss / max(n - 2, 1)))
    }

    /// t statistic of the trend of `y` against its index (0 when flat or too short).
    static func trendT(_ y: [Double]) -> Double {
        let x = y.indices.map(Double.init)
        guard let f = fit(x, y) else { return 0 }
        let n = Double(y.count)
        let sxx = x.map { pow($0 - (n - 1) / 2, 2) }.reduce(0, +)
        let se = f.residualRMS / sqrt(sxx)
        return se > 0 ? f.slope / se : (f.slope == 0 ? 0 : .infinity)
    }
}
