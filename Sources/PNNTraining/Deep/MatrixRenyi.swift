import Foundation
import PNNCore

/// Matrix-based Rényi entropy of order α = 2 (Sanchez Giraldo, Rao & Príncipe 2014) and the
/// physical-information-bottleneck objective built from it.
///
/// For n samples zᵢ: K_ij = exp(−‖zᵢ − zⱼ‖² / 2σ²), A = K / tr K, and
/// S₂(A) = −log₂ Σᵢⱼ A_ij² (closed form, O(n²), no eigen-decomposition). Joint entropy:
/// S₂(A∘B / tr(A∘B)); mutual information I(X;Z) = S(A_X) + S(A_Z) − S(A_XZ). All in bits.
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
    /// Gram matrices `kx`, `ky` given. With unit diagonals (both kernels here) every trace
    /// is n, so ∂S₂(K_Z)/∂K = −2K/(ln2·ΣK²) and ∂S₂(K_B∘K_Z)/∂K_Z = −2 K_B²∘K_Z/(ln2·Σ(K_B∘K_Z)²);
    /// through K_ij = exp(−‖zᵢ−zⱼ‖²/2σ²) with M = G∘K (G = ∂loss/∂K, symmetric):
    /// ∂loss/∂zᵢ = −(2/σ²)·Σⱼ M_ij (zᵢ − zⱼ).
    public static func pib(z: Matrix, kx: Matrix, ky: Matrix, beta: Double) -> Terms {
        let n = z.rows
        let d = squaredDistances(z)
        let twoS2 = medianWidth(d)
        let k = gram(distances: d, twoSigmaSquared: twoS2)
        var sumK = 0.0, sumXK = 0.0, sumYK = 0.0
        for i in k.storage.indices {
            let kk = k.storage[i] * k.storage[i]
            sumK += kk
            sumXK += kk * kx.storage[i] * kx.storage[i]
            sumYK += kk * ky.storage[i] * ky.storage[i]
        }
        let n2 = Double(n * n)
        let sZ = -log2(sumK / n2)
        let sXZ = -log2(sumXK / n2)
        let sYZ = -log2(sumYK / n2)
        let iXZ = entropy(kx) + sZ - sXZ
        let iYZ = entropy(ky) + sZ - sYZ
        // loss = (β − 1)·S(Z) + S(Y,Z) − β·S(X,Z) + constants.
        let ln2 = log(2.0)
        var m = Matrix(rows: n, cols: n)
        for i in k.storage.indices {
            let kv = k.storage[i]
            let kxv = kx.storage[i], kyv = ky.storage[i]
            let g =
                (beta - 1) * (-2 * kv / (ln2 * sumK)) + (-2 * kyv * kyv * kv / (ln2 * sumYK))
                - beta * (-2 * kxv * kxv * kv / (ln2 * sumXK))
            m.storage[i] = g * kv
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
