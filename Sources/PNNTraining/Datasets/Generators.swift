import Foundation
import PNNCore

/// Seeded synthetic classification tasks.
public enum SyntheticData {
    /// XOR: four Gaussian blobs at (±1, ±1) with class = sign(x)·sign(y) < 0, `count` samples,
    /// isotropic noise `noise`.
    public static func xor(count: Int = 200, noise: Double = 0.25, seed: UInt64) -> Dataset {
        var rng = SeededRandom.derived(seed: seed, stream: 0x0_0A)
        var values: [Double] = []
        var labels: [Int] = []
        for i in 0..<count {
            let sx: Double = (i & 1) == 0 ? 1 : -1
            let sy: Double = (i & 2) == 0 ? 1 : -1
            values += [sx + noise * rng.normal(), sy + noise * rng.normal()]
            labels.append(sx * sy > 0 ? 0 : 1)
        }
        return Dataset(name: "xor", features: Matrix(rows: count, cols: 2, storage: values), labels: labels, classCount: 2)
    }

    /// Two interleaving half-moons (the scikit-learn construction), `count` samples.
    public static func moons(count: Int = 200, noise: Double = 0.1, seed: UInt64) -> Dataset {
        var rng = SeededRandom.derived(seed: seed, stream: 0x300_25)
        var values: [Double] = []
        var labels: [Int] = []
        let half = count / 2
        for i in 0..<count {
            let upper = i < half
            let k = upper ? i : i - half
            let n = upper ? half : count - half
            let t = Double.pi * Double(k) / Double(max(n - 1, 1))
            let x = upper ? cos(t) : 1 - cos(t)
            let y = upper ? sin(t) : 0.5 - sin(t)
            values += [x + noise * rng.normal(), y + noise * rng.normal()]
            labels.append(upper ? 0 : 1)
        }
        return Dataset(name: "moons", features: Matrix(rows: count, cols: 2, storage: values), labels: labels, classCount: 2)
    }

    /// The analog-multiplier regression (seed 000): features (x₁, x₂) uniform in
    /// [−`range`, `range`]², target x₁·x₂; `count` seeded samples.
    public static func multiply(count: Int = 100, range: Double = 1, seed: UInt64) -> Dataset {
        var rng = SeededRandom.derived(seed: seed, stream: 0x3_17)
        var values: [Double] = []
        for _ in 0..<count { values += [range * (2 * rng.uniform() - 1), range * (2 * rng.uniform() - 1)] }
        return products(Matrix(rows: count, cols: 2, storage: values))
    }

    /// The multiplier's test grid: `side` × `side` points spanning [−`range`, `range`]², corners included.
    public static func multiplyGrid(side: Int = 11, range: Double = 1) -> Dataset {
        var values: [Double] = []
        for i in 0..<side {
            for j in 0..<side {
                let step = 2 * range / Double(max(side - 1, 1))
                values += [-range + step * Double(i), -range + step * Double(j)]
            }
        }
        return products(Matrix(rows: side * side, cols: 2, storage: values))
    }

    static func products(_ x: Matrix) -> Dataset {
        var d = Dataset(
            name: "multiply", features: x, labels: Array(repeating: 0, count: x.rows), classCount: 1, classNames: ["x1*x2"])
        d.targets = (0..<x.rows).map { x[$0, 0] * x[$0, 1] }
        return d
    }
}
