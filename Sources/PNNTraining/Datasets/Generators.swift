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
}
