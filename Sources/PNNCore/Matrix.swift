import CBLAS
import Dispatch

/// A dense row-major matrix of `Double`, with products through OpenBLAS and
/// factorizations through LAPACKE (see `LinearAlgebra.swift`).
///
/// Row-major matches how batches are laid out: one row per input vector, one column per
/// channel. Value semantics (copy-on-write through the underlying array).
public struct Matrix: Sendable, Equatable, Codable {
    public private(set) var rows: Int
    public private(set) var cols: Int
    /// Row-major storage, `rows * cols` values.
    public var storage: [Double]

    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && cols >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.storage = Array(repeating: value, count: rows * cols)
    }

    public init(rows: Int, cols: Int, storage: [Double]) {
        precondition(storage.count == rows * cols, "storage has \(storage.count) values, expected \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// Build from nested rows (all of equal length).
    public init(_ nested: [[Double]]) {
        let cols = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == cols }, "ragged rows")
        self.init(rows: nested.count, cols: cols, storage: nested.flatMap { $0 })
    }

    /// A column vector.
    public init(column: [Double]) { self.init(rows: column.count, cols: 1, storage: column) }

    /// The identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    @inlinable public subscript(r: Int, c: Int) -> Double {
        get { storage[r * cols + c] }
        set { storage[r * cols + c] = newValue }
    }

    /// Row `r` as an array.
    public func row(_ r: Int) -> [Double] { Array(storage[(r * cols)..<((r + 1) * cols)]) }

    /// Column `c` as an array.
    public func column(_ c: Int) -> [Double] { (0..<rows).map { storage[$0 * cols + c] } }

    /// Rows `range` as a new matrix.
    public func rowSlice(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, storage: Array(storage[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// The rows at `indices`, in that order.
    public func rows(at indices: [Int]) -> Matrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * cols)
        for i in indices { out.append(contentsOf: storage[(i * cols)..<((i + 1) * cols)]) }
        return Matrix(rows: indices.count, cols: cols, storage: out)
    }

    /// Stack matrices with equal column counts on top of each other.
    public static func vstack(_ parts: [Matrix]) -> Matrix {
        guard let first = parts.first else { return Matrix(rows: 0, cols: 0) }
        var out = [Double]()
        out.reserveCapacity(parts.reduce(0) { $0 + $1.storage.count })
        for p in parts {
            precondition(p.cols == first.cols, "vstack: column counts differ")
            out.append(contentsOf: p.storage)
        }
        return Matrix(rows: parts.reduce(0) { $0 + $1.rows }, cols: first.cols, storage: out)
    }

    /// The transpose.
    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for r in 0..<rows { for c in 0..<cols { t.storage[c * rows + r] = storage[r * cols + c] } }
        return t
    }

    /// Frobenius norm (‖·‖₂ for vectors), via BLAS.
    public var norm: Double {
        storage.withUnsafeBufferPointer { cblas_dnrm2(Int32($0.count), $0.baseAddress, 1) }
    }

    /// C = alpha · op(A) · op(B) + beta · C through `cblas_dgemm`.
    public static func gemm(
        _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
        alpha: Double = 1, beta: Double = 0, into c: inout Matrix
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.cols == n, "gemm: output is \(c.rows)×\(c.cols), expected \(m)×\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in c.storage.indices { c.storage[i] *= beta }
            return
        }
        BLASThreads.configure()
        let parts = BLASThreads.parts(m: m, n: n, k: k)
        let lda = max(a.cols, 1)
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    // Rows i0..<i1 of C need rows i0..<i1 of op(A): rows of A, or columns of Aᵀ.
                    let ptr = GemmPointers(a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                    let ldb = max(b.cols, 1)
                    @Sendable func block(_ i0: Int, _ i1: Int) {
                        cblas_dgemm(
                            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                            transposeB ? CblasTrans : CblasNoTrans,
                            Int32(i1 - i0), Int32(n), Int32(k), alpha, transposeA ? ptr.a + i0 : ptr.a + i0 * lda,
                            Int32(lda), ptr.b, Int32(ldb), beta, ptr.c + i0 * n, Int32(max(n, 1)))
                    }
                    if parts == 1 {
                        block(0, m)
                    } else {
                        DispatchQueue.concurrentPerform(iterations: parts) { p in block(p * m / parts, (p + 1) * m / parts) }
                    }
                }
            }
        }
    }

    /// op(A) · op(B).
    public static func product(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        var c = Matrix(rows: transposeA ? a.cols : a.rows, cols: transposeB ? b.rows : b.cols)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// Matrix product.
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { product(lhs, rhs) }

    /// y = op(A) · x through `cblas_dgemv`.
    public func apply(_ x: [Double], transpose: Bool = false) -> [Double] {
        precondition(x.count == (transpose ? rows : cols), "gemv: vector length \(x.count) does not match")
        var y = Array(repeating: 0.0, count: transpose ? cols : rows)
        if rows == 0 || cols == 0 { return y }
        BLASThreads.configure()
        storage.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_dgemv(
                        CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), 1,
                        pa.baseAddress, Int32(cols), px.baseAddress, 1, 0, py.baseAddress, 1)
                }
            }
        }
        return y
    }

    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols, "+: shapes differ")
        var out = lhs
        for i in out.storage.indices { out.storage[i] += rhs.storage[i] }
        return out
    }

    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols, "-: shapes differ")
        var out = lhs
        for i in out.storage.indices { out.storage[i] -= rhs.storage[i] }
        return out
    }

    public static func * (lhs: Double, rhs: Matrix) -> Matrix {
        var out = rhs
        for i in out.storage.indices { out.storage[i] *= lhs }
        return out
    }
}

/// The operands of one split `cblas_dgemm`: each part reads A and B and writes its own
/// disjoint rows of C, so sharing the pointers across the parts is safe.
private struct GemmPointers: @unchecked Sendable {
    let a: UnsafePointer<Double>
    let b: UnsafePointer<Double>
    let c: UnsafeMutablePointer<Double>
}
