import Foundation
import PNNCore
import Testing

@testable import PNNTraining

@Suite("Matrix-based Rényi entropy (α = 2 closed form, any α by eigenvalues) and the PIB objective")
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
    @Test func pibGradientMatchesFiniteDifferences() throws {
        var rng = SeededRandom(seed: 5)
        let n = 12, d = 3
        let z = Matrix(rows: n, cols: d, storage: (0..<(n * d)).map { _ in rng.normal() })
        let x = Matrix(rows: n, cols: 5, storage: (0..<(n * 5)).map { _ in rng.normal() })
        let labels = (0..<n).map { $0 % 3 }
        let kx = MatrixRenyi.gram(x)
        let ky = MatrixRenyi.labelGram(labels)
        let beta = 0.1
        let terms = try MatrixRenyi.pib(z: z, kx: kx, ky: ky, beta: beta)
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

    /// A random trace-normalised Gram matrix of n Gaussian samples.
    func normalizedGram(n: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        let z = Matrix(rows: n, cols: 3, storage: (0..<(n * 3)).map { _ in rng.normal() })
        let k = MatrixRenyi.gram(z)
        return Matrix(rows: n, cols: n, storage: k.storage.map { $0 / Double(n) })
    }

    /// The eigenvalue path: known values, the α = 2 closed form approached as α → 2, and the
    /// α → 1 limit (von Neumann entropy −Σλ log₂ λ).
    @Test func eigenPathAgreesWithClosedFormsAndLimits() throws {
        #expect(abs(try MatrixRenyi.entropy(Matrix.identity(8), alpha: 1.01) - 3) < 1e-9)
        #expect(abs(try MatrixRenyi.entropy(Matrix(rows: 8, cols: 8, repeating: 1), alpha: 1.01)) < 1e-9)
        let a = normalizedGram(n: 16, seed: 3)
        let closed = MatrixRenyi.entropy(a)
        for alpha in [1.99, 1.999, 2.001] {
            let s = try MatrixRenyi.entropyAndGradient(normalized: a, alpha: alpha).entropy
            #expect(abs(s - closed) < 20 * abs(alpha - 2), "α = \(alpha): \(s) against \(closed) at α = 2")
        }
        // At α = 2 exactly the eigen path equals the closed form, gradient included.
        let two = try MatrixRenyi.entropyAndGradient(normalized: a, alpha: 2)
        #expect(abs(two.entropy - closed) < 1e-10)
        let sq = a.storage.reduce(0) { $0 + $1 * $1 }
        for i in a.storage.indices {
            #expect(abs(two.gradient.storage[i] + 2 * a.storage[i] / (log(2.0) * sq)) < 1e-9)
        }
        // α → 1: the von Neumann entropy.
        let eig = try a.symmetricEigen()
        let vonNeumann = eig.values.filter { $0 > 1e-15 }.reduce(0) { $0 - $1 * log2($1) }
        let s1 = try MatrixRenyi.entropyAndGradient(normalized: a, alpha: 1.0001).entropy
        #expect(abs(s1 - vonNeumann) < 1e-2, "\(s1) against \(vonNeumann)")
        #expect(s1 > closed, "S_α falls with α")
    }

    /// ∂S_α/∂A by eigenvectors against central differences along symmetric perturbations
    /// E_ij + E_ji (the derivative along them is G_ij + G_ji = 2G_ij), at α = 1.01 and 3.
    @Test func eigenGradientMatchesFiniteDifferences() throws {
        let a = normalizedGram(n: 10, seed: 8)
        for alpha in [1.01, 3.0] {
            let g = try MatrixRenyi.entropyAndGradient(normalized: a, alpha: alpha).gradient
            let h = 1e-6
            var worst = 0.0
            for i in 0..<a.rows {
                for j in i..<a.cols {
                    var p = a, q = a
                    p[i, j] += h
                    q[i, j] -= h
                    if i != j {
                        p[j, i] += h
                        q[j, i] -= h
                    }
                    let fd =
                        try
                        (MatrixRenyi.entropyAndGradient(normalized: p, alpha: alpha).entropy
                        - MatrixRenyi.entropyAndGradient(normalized: q, alpha: alpha).entropy) / (2 * h)
                    worst = max(worst, abs(fd - (i == j ? g[i, j] : 2 * g[i, j])))
                }
            }
            #expect(worst < 1e-5, "α = \(alpha): largest gradient error \(worst)")
        }
    }

    /// The PIB loss at α = 1.01 (eigen path) against central differences in z, and its
    /// information terms against the entropies computed directly.
    @Test func pibGradientAtAlphaNearOneMatchesFiniteDifferences() throws {
        var rng = SeededRandom(seed: 6)
        let n = 12, d = 3
        let z = Matrix(rows: n, cols: d, storage: (0..<(n * d)).map { _ in rng.normal() })
        let x = Matrix(rows: n, cols: 5, storage: (0..<(n * 5)).map { _ in rng.normal() })
        let kx = MatrixRenyi.gram(x)
        let ky = MatrixRenyi.labelGram((0..<n).map { $0 % 3 })
        let beta = 0.1, alpha = 1.01
        let terms = try MatrixRenyi.pib(z: z, kx: kx, ky: ky, beta: beta, alpha: alpha)
        let width = MatrixRenyi.medianWidth(MatrixRenyi.squaredDistances(z))
        func mi(_ a: Matrix, _ b: Matrix) throws -> Double {
            let joint = Matrix(rows: n, cols: n, storage: zip(a.storage, b.storage).map { $0 * $1 })
            return try MatrixRenyi.entropy(a, alpha: alpha) + MatrixRenyi.entropy(b, alpha: alpha)
                - MatrixRenyi.entropy(joint, alpha: alpha)
        }
        func loss(_ zz: Matrix) throws -> Double {
            let k = MatrixRenyi.gram(distances: MatrixRenyi.squaredDistances(zz), twoSigmaSquared: width)
            return try -mi(ky, k) + beta * mi(kx, k)
        }
        #expect(abs(try loss(z) - terms.loss) < 1e-9)
        let h = 1e-6
        var worst = 0.0
        for i in z.storage.indices {
            var p = z, q = z
            p.storage[i] += h
            q.storage[i] -= h
            worst = max(worst, abs((try loss(p) - loss(q)) / (2 * h) - terms.gradient.storage[i]))
        }
        #expect(worst < 1e-5, "largest gradient error \(worst)")
    }
}
