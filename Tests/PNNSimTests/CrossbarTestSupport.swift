import PNNCore
import PNNSim

/// Deterministic input batches and small helpers shared by the crossbar tests.
enum TestSupport {
    /// batch × rows voltages uniform in [−limit, limit].
    static func inputs(batch: Int, rows: Int, limit: Double = 0.3, seed: UInt64 = 42) -> Matrix {
        var rng = SeededRandom(seed: seed)
        return Matrix(rows: batch, cols: rows, storage: (0..<(batch * rows)).map { _ in limit * (2 * rng.uniform() - 1) })
    }

    /// Mean and (sample) standard deviation.
    static func meanAndStd(_ xs: [Double]) -> (mean: Double, std: Double) {
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
        return (mean, variance.squareRoot())
    }

    /// Indices of devices that are not stuck.
    static func healthyDevices(_ physics: CrossbarPhysics) -> [Int] {
        physics.stuck.indices.filter { !physics.stuck[$0] }
    }

    /// Whether `x` is an integer multiple of `step` (to floating-point accuracy).
    static func isMultiple(_ x: Double, of step: Double) -> Bool {
        let k = x / step
        return abs(k - k.rounded()) < 1e-6
    }
}
