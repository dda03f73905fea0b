import Foundation
import PNNCore

/// Matrix-based Rényi entropy (Sanchez Giraldo, Rao & Príncipe 2014) and the
/// physical-information-bottleneck objective built from it.
///
/// For n samples zᵢ: K_ij = exp(−‖zᵢ − zⱼ‖² / 2σ²), A = K / tr K with eigenvalues λᵢ, and
/// S_α(A) = 1/(1−α) · log₂ Σᵢ λᵢ^α. Order α = 2 has the closed form S₂(A) = −log₂ Σᵢⱼ A_ij²
/// (O(n²), no eigen-decomposition); any other α (α ≈ 1.01 approximates Shannon's entropy)
/// goes through the eigen-decomposition (`LAPACKE_dsyevd`, O(n³)). Joint entropy:
/// S(A∘B / tr(A∘B)); mutual information I(X;Z) = S(A_X) + S(A_Z) − S(A_XZ). All in bits.
///
/// Kernel width (the stated rule): 2σ² = the median squared distance between distinct
/// samples of the batch, so the median pair has kernel value 1/e; σ is held fixed while
/// differentiating. Labels use the delta kernel K_ij = [yᵢ = yⱼ].
public enum MatrixRenyi {
    /// Squared distances between the rows of `z` (n × n).
    public static func squaredDistances(_ z: Matrix) -> Matrix {
        let n = z.rows
        let g = Matrix.product(z, z, transposeB: true)
        var d = Matrix(rows: n, cols: n)
        for i in 0..<n { for j in 0..<n { d[i, j] = max(g[i, i] + g[j, j] - 2 * g[i, j], 0) } }
        return d
    }

    /// 2σ² by the median rule (1 when every sample coincides).
    public static func medianWidth(_ d: Matrix) -> Double {
        var v: [Double] = []
        v.reserveCapacity(d.rows * (d.rows - 1) / 2)
        for i in 0..<d.rows { for j in (i + 1)..<d.cols { v.append(d[i, j]) } }
        guard !v.isEmpty else { return 1 }
        v.sort()
        let m = v[v.count / 2]
        return m > 0 ? m : 1
    }

    /// Gaussian Gram matrix exp(−d / twoSigmaSquared).
    public static func gram(distances d: Matrix, twoSigmaSquared s: Double) -> Matrix {
        Matrix(rows: d.rows, cols: d.cols, storage: d.storage.map { exp(-$0 / s) })
    }

    /// The Gram matrix of `z` with the median-rule width.
    public static func gram(_ z: Matrix) -> Matrix {
        let d = squaredDistances(z)
        return gram(distances: d, twoSigmaSquared: medianWidth(d))
    }

    /// Delta kernel on class labels.
    public static func labelGram(_ labels: [Int]) -> Matrix {
        let n = labels.count
        var k = Matrix(rows: n, cols: n)
        for i in 0..<n { for j in 0..<n where labels[i] == labels[j] { k[i, j] = 1 } }
        return k
    }

    /// S₂(K / tr K) in bits.
    public static func entropy(_ k: Matrix) -> Double {
        var tr = 0.0
        for i in 0..<k.rows { tr += k[i, i] }
        let sq = k.storage.reduce(0) { $0 + $1 * $1 }
        return -log2(sq / (tr * tr))
    }

    /// S_α(K / tr K) in bits: the closed form at α = 2, the eigenvalues otherwise.
    public static func entropy(_ k: Matrix, alpha: Double) throws(LinearAlgebraError) -> Double {
        if alpha == 2 { return entropy(k) }
        var tr = 0.0
        for i in 0..<k.rows { tr += k[i, i] }
        let a = Matrix(rows: k.rows, cols: k.cols, storage: k.storage.map { $0 / tr })
        return try entropyAndGradient(normalized: a, alpha: alpha).entropy
    }

    /// S_α(A) = 1/(1−α)·log₂ Σλᵢ^α of a symmetric positive semi-definite A of unit trace,
    /// and its gradient ∂S_α/∂A = α/((1−α)·ln2·Σλ^α) · V diag(λ^(α−1)) Vᵀ (A held on the
    /// matrices of unit trace is not enforced: the gradient is the free one). Eigenvalues
    /// below zero (round-off) count as zero. Any α > 0, α ≠ 1, through the eigenvectors.
    public static func entropyAndGradient(
        normalized a: Matrix, alpha: Double
    ) throws(LinearAlgebraError) -> (entropy: Double, gradient: Matrix) {
        let eig = try a.symmetricEigen()
        let lambda = eig.values.map { max($0, 0) }
        let sum = lambda.reduce(0) { $0 + pow($1, alpha) }
        let entropy = log2(sum) / (1 - alpha)
        let c = alpha / ((1 - alpha) * log(2.0) * sum)
        var w = eig.vectors
        let n = a.rows
        for j in 0..<n {
            let f = lambda[j] > 0 ? c * pow(lambda[j], alpha - 1) : 0
            for i in 0..<n { w[i, j] *= f }
        }
        return (entropy, Matrix.product(w, eig.vectors, transposeB: true))
    }

    /// S₂(A) = −log₂ ΣA² of a trace-normalised A and ∂S₂/∂A = −2A/(ln2·ΣA²): the closed
    /// form `entropyAndGradient(normalized:alpha: 2)` reaches by eigenvalues.
    public static func closedFormEntropyAndGradient(normalized a: Matrix) -> (entropy: Double, gradient: Matrix) {
        let sq = a.storage.reduce(0) { $0 + $1 * $1 }
        let c = -2 / (log(2.0) * sq)
        return (-log2(sq), Matrix(rows: a.rows, cols: a.cols, storage: a.storage.map { c * $0 }))
    }

    /// Joint entropy S₂ of two Gram matrices (Hadamard product, normalised).
    public static func jointEntropy(_ a: Matrix, _ b: Matrix) -> Double {
        entropy(Matrix(rows: a.rows, cols: a.cols, storage: zip(a.storage, b.storage).map { $0 * $1 }))
    }

    /// I(A;B) = S(A) + S(B) − S(A,B), bits.
    public static func mutualInformation(_ a: Matrix, _ b: Matrix) -> Double {
        entropy(a) + entropy(b) - jointEntropy(a, b)
    }

    /// The PIB loss of one batch and its gradient.
    public struct Terms: Sendable {
        /// −(I(Y;Z) − β I(X;Z)), bits (minimised).
        public var loss: Double
        public var iXZ: Double
        public var iYZ: Double
        /// ∂loss/∂Z, one row per sample.
        public var gradient: Matrix
    }

    /// loss = −I(Y;Z) + β I(X;Z) for features `z` (n × d), with the inputs' and labels'
    /// Gram matrices `kx`, `ky` given, with the matrix Rényi entropy of order `alpha`. With
    /// unit diagonals (both kernels
    /// here) every trace is n and the diagonal does not move with z, so with Gₐ = ∂S/∂A:
    /// ∂S(K_Z/n)/∂K_Z = G_Z/n and ∂S(K_B∘K_Z/n)/∂K_Z = K_B∘G_BZ/n (at α = 2 in closed form,
    /// G = −2A/(ln2·ΣA²)); through K_ij = exp(−‖zᵢ−zⱼ‖²/2σ²) with M = G∘K (G = ∂loss/∂K,
    /// symmetric): ∂loss/∂zᵢ = −(2/σ²)·Σⱼ M_ij (zᵢ − zⱼ).
    public static func pib(
        z: Matrix, kx: Matrix, ky: Matrix, beta: Double, alpha: Double = 2
    ) throws(LinearAlgebraError) -> Terms {
        let n = z.rows
        let d = squaredDistances(z)
        let twoS2 = medianWidth(d)
        let k = gram(distances: d, twoSigmaSquared: twoS2)
        let nn = Double(n)
        var m = Matrix(rows: n, cols: n)
        let iXZ: Double
        let iYZ: Double
        if alpha == 2 {
            var sumK = 0.0, sumXK = 0.0, sumYK = 0.0
            for i in k.storage.indices {
                let kk = k.storage[i] * k.storage[i]
                sumK += kk
                sumXK += kk * kx.storage[i] * kx.storage[i]
                sumYK += kk * ky.storage[i] * ky.storage[i]
            }
            let n2 = nn * nn
            let sZ = -log2(sumK / n2)
            let sXZ = -log2(sumXK / n2)
            let sYZ = -log2(sumYK / n2)
            iXZ = entropy(kx) + sZ - sXZ
            iYZ = entropy(ky) + sZ - sYZ
            // loss = (β − 1)·S(Z) + S(Y,Z) − β·S(X,Z) + constants.
            let ln2 = log(2.0)
            for i in k.storage.indices {
                let kv = k.storage[i]
                let kxv = kx.storage[i], kyv = ky.storage[i]
                let g =
                    (beta - 1) * (-2 * kv / (ln2 * sumK)) + (-2 * kyv * kyv * kv / (ln2 * sumYK))
                    - beta * (-2 * kxv * kxv * kv / (ln2 * sumXK))
                m.storage[i] = g * kv
            }
        } else {
            func normalized(_ b: Matrix?) -> Matrix {
                var a = Matrix(rows: n, cols: n)
                for i in a.storage.indices { a.storage[i] = k.storage[i] * (b?.storage[i] ?? 1) / nn }
                return a
            }
            let sz = try entropyAndGradient(normalized: normalized(nil), alpha: alpha)
            let xz = try entropyAndGradient(normalized: normalized(kx), alpha: alpha)
            let yz = try entropyAndGradient(normalized: normalized(ky), alpha: alpha)
            iXZ = try entropy(kx, alpha: alpha) + sz.entropy - xz.entropy
            iYZ = try entropy(ky, alpha: alpha) + sz.entropy - yz.entropy
            for i in k.storage.indices {
                let g =
                    ((beta - 1) * sz.gradient.storage[i] + ky.storage[i] * yz.gradient.storage[i] - beta * kx.storage[i]
                        * xz.gradient.storage[i]) / nn
                m.storage[i] = g * k.storage[i]
            }
        }
        // σ² = twoS2 / 2, so 2/σ² = 4/twoS2.
        let c = -4 / twoS2
        var grad = Matrix(rows: n, cols: z.cols)
        let mz = Matrix.product(m, z)
        for i in 0..<n {
            var rowSum = 0.0
            for j in 0..<n { rowSum += m[i, j] }
            for f in 0..<z.cols { grad[i, f] = c * (rowSum * z[i, f] - mz[i, f]) }
        }
        return Terms(loss: -iYZ + beta * iXZ, iXZ: iXZ, iYZ: iYZ, gradient: grad)
    }
}
