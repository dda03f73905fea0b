import Foundation
import PNNCore
import Testing

@testable import PNNTraining

@Suite("Matrix-based Rényi entropy (α = 2) and the PIB objective")
struct MatrixRenyiTests {
    @Test func entropyOfCoincidentAndOfWellSeparatedSamples() {
        // All samples equal: one "state", 0 bits. n samples far apart: K = I, log2 n bits.
        #expect(abs(MatrixRenyi.entropy(Matrix(rows: 8, cols: 8, repeating: 1))) < 1e-12)
        #expect(abs(MatrixRenyi.entropy(Matrix.identity(8)) - 3) < 1e-12)
        // Labels of 4 equal classes of 5: S₂ = log2 4.
        let ky = MatrixRenyi.labelGram((0..<20).map { $0 % 4 })
        #expect(abs(MatrixRenyi.entropy(ky) - 2) < 1e-12)
        // Features that copy the labels carry all of S(Y).
        #expect(abs(MatrixRenyi.mutualInformation(ky, ky) - 2) < 1e-12)
    }

    /// The analytic gradient against central differences, with the kernel width held at the
    /// value the median rule picks at the point (the rule's σ is not differentiated).
    @Test func pibGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 5)
        let n = 12, d = 3
        let z = Matrix(rows: n, cols: d, storage: (0..<(n * d)).map { _ in rng.normal() })
        let x = Matrix(rows: n, cols: 5, storage: (0..<(n * 5)).map { _ in rng.normal() })
        let labels = (0..<n).map { $0 % 3 }
        let kx = MatrixRenyi.gram(x)
        let ky = MatrixRenyi.labelGram(labels)
        let beta = 0.1
        let terms = MatrixRenyi.pib(z: z, kx: kx, ky: ky, beta: beta)
        let width = MatrixRenyi.medianWidth(MatrixRenyi.squaredDistances(z))
        func loss(_ zz: Matrix) -> Double {
            let k = MatrixRenyi.gram(distances: MatrixRenyi.squaredDistances(zz), twoSigmaSquared: width)
            return -MatrixRenyi.mutualInformation(ky, k) + beta * MatrixRenyi.mutualInformation(kx, k)
        }
        #expect(abs(loss(z) - terms.loss) < 1e-10)
        let h = 1e-6
        var worst = 0.0
        for i in z.storage.indices {
            var p = z, q = z
            p.storage[i] += h
            q.storage[i] -= h
            worst = max(worst, abs((loss(p) - loss(q)) / (2 * h) - terms.gradient.storage[i]))
        }
        #expect(worst < 1e-6, "largest gradient error \(worst)")
    }
}
