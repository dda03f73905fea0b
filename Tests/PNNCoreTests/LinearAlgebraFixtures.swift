import PNNCore

/// Reference computations written independently of BLAS/LAPACK, to check PNNCore against.
enum Reference {
    /// A rows × cols matrix of uniform values in [−1, 1).
    static func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in 2 * rng.uniform() - 1 })
    }

    /// A vector of uniform values in [−1, 1).
    static func randomVector(_ count: Int, seed: UInt64) -> [Double] {
        randomMatrix(count, 1, seed: seed).storage
    }

    /// op(A) · op(B) by the triple loop.
    static func product(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let n = transposeB ? b.rows : b.cols
        var c = Matrix(rows: m, cols: n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p, i] : a[i, p]
                    let y = transposeB ? b[j, p] : b[p, j]
                    sum += x * y
                }
                c[i, j] = sum
            }
        }
        return c
    }

    /// Solve the square system M x = y by Gaussian elimination with partial pivoting.
    static func solve(_ m: Matrix, _ y: [Double]) -> [Double] {
        let n = m.rows
        var a = m
        var b = y
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0, col]) < abs(a[$1, col]) }!
            if pivot != col {
                for c in 0..<n { (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]) }
                b.swapAt(col, pivot)
            }
            for r in (col + 1)..<max(n, col + 1) {
                let f = a[r, col] / a[col, col]
                for c in col..<n { a[r, c] -= f * a[col, c] }
                b[r] -= f * b[col]
            }
        }
        var x = Array(repeating: 0.0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for c in (r + 1)..<max(n, r + 1) { s -= a[r, c] * x[c] }
            x[r] = s / a[r, r]
        }
        return x
    }

    /// Minimum-norm solution of a consistent system with full row rank: x = Aᵀ (A Aᵀ)⁻¹ b.
    static func minimumNormSolution(_ a: Matrix, _ b: [Double]) -> [Double] {
        let y = solve(product(a, a, transposeB: true), b)
        return matVec(a.transposed, y)
    }

    /// (AᵀA + λI)⁻¹ Aᵀ b through the normal equations.
    static func ridge(_ a: Matrix, _ b: [Double], lambda: Double) -> [Double] {
        var normal = product(a, transposeA: true, a)
        for i in 0..<normal.rows { normal[i, i] += lambda }
        return solve(normal, matVec(a.transposed, b))
    }

    /// A · x by loops.
    static func matVec(_ a: Matrix, _ x: [Double]) -> [Double] {
        (0..<a.rows).map { r in (0..<a.cols).reduce(0.0) { $0 + a[r, $1] * x[$1] } }
    }

    /// Largest absolute element-wise difference.
    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
        return zip(a, b).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
    }

    static func maxDifference(_ a: Matrix, _ b: Matrix) -> Double {
        precondition(a.rows == b.rows && a.cols == b.cols, "shapes differ")
        return maxDifference(a.storage, b.storage)
    }

    static func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
