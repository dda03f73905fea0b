import CBLAS
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Failures of the LAPACK routines, with the routine's own `info` code.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    case didNotConverge(routine: String, info: Int32)
    case invalidArgument(routine: String, info: Int32)
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .didNotConverge(let routine, let info):
            return "\(routine) did not converge (info \(info)); the matrix may contain NaN or be badly scaled"
        case .invalidArgument(let routine, let info):
            return "\(routine) rejected argument \(-info)"
        case .shapeMismatch(let message):
            return "shape mismatch: \(message)"
        }
    }
}

/// A thin singular value decomposition A = U · diag(S) · Vᵀ.
public struct SVD: Sendable {
    /// m × k, k = min(m, n).
    public var u: Matrix
    /// k singular values, descending.
    public var singularValues: [Double]
    /// k × n.
    public var vt: Matrix
}

extension Matrix {
    /// Thin SVD through `LAPACKE_dgesdd` (divide and conquer).
    public func svd() throws(LinearAlgebraError) -> SVD {
        let m = rows
        let n = cols
        let k = min(m, n)
        var a = storage
        var s = Array(repeating: 0.0, count: k)
        var u = Matrix(rows: m, cols: k)
        var vt = Matrix(rows: k, cols: n)
        if k == 0 { return SVD(u: u, singularValues: s, vt: vt) }
        BLASThreads.configure()
        let info = LAPACKE_dgesdd(
            LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), &a, Int32(n), &s,
            &u.storage, Int32(k), &vt.storage, Int32(n))
        if info > 0 { throw .didNotConverge(routine: "dgesdd", info: info) }
        if info < 0 { throw .invalidArgument(routine: "dgesdd", info: info) }
        return SVD(u: u, singularValues: s, vt: vt)
    }

    /// Minimum-norm least-squares solution of A·X = B through `LAPACKE_dgelsd`.
    /// Singular values below `rcond · σ_max` are treated as zero.
    public func leastSquares(_ b: Matrix, rcond: Double = -1) throws(LinearAlgebraError) -> Matrix {
        guard b.rows == rows else {
            throw .shapeMismatch("least squares: A has \(rows) rows, B has \(b.rows)")
        }
        let m = rows
        let n = cols
        let nrhs = b.cols
        let ldb = max(m, n)
        var a = storage
        // B is overwritten with the solution; it must hold max(m, n) rows.
        var work = Array(repeating: 0.0, count: ldb * nrhs)
        for r in 0..<m { for c in 0..<nrhs { work[r * nrhs + c] = b[r, c] } }
        var s = Array(repeating: 0.0, count: max(min(m, n), 1))
        var rank: Int32 = 0
        BLASThreads.configure()
        let info = LAPACKE_dgelsd(
            LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(nrhs), &a, Int32(max(n, 1)), &work,
            Int32(max(nrhs, 1)), &s, rcond, &rank)
        if info > 0 { throw .didNotConverge(routine: "dgelsd", info: info) }
        if info < 0 { throw .invalidArgument(routine: "dgelsd", info: info) }
        return Matrix(rows: n, cols: nrhs, storage: Array(work[0..<(n * nrhs)]))
    }

    /// x = A⁺ b with a truncated-SVD pseudoinverse: singular values below
    /// `cutoff · σ_max` are dropped.
    public func pseudoInverseSolve(_ b: [Double], cutoff: Double) throws(LinearAlgebraError) -> [Double] {
        try svd().filteredSolve(b) { s, smax in s > cutoff * smax ? 1 / s : 0 }
    }

    /// x = (AᵀA + λI)⁻¹ Aᵀ b (Tikhonov / Levenberg–Marquardt damping), through the SVD:
    /// x = V · diag(σ / (σ² + λ)) · Uᵀ b. Exactly zero singular values contribute nothing
    /// (so λ = 0 on a rank-deficient A gives the minimum-norm solution, not NaN).
    public func dampedLeastSquaresSolve(_ b: [Double], lambda: Double) throws(LinearAlgebraError) -> [Double] {
        try svd().filteredSolve(b) { s, _ in s > 0 ? s / (s * s + lambda) : 0 }
    }
}

extension SVD {
    /// x = V · diag(f(σᵢ)) · Uᵀ b for a spectral filter f.
    public func filteredSolve(_ b: [Double], filter: (Double, Double) -> Double) throws(LinearAlgebraError) -> [Double] {
        guard b.count == u.rows else {
            throw .shapeMismatch("solve: A has \(u.rows) rows, b has \(b.count) values")
        }
        let smax = singularValues.first ?? 0
        var coeff = u.apply(b, transpose: true)
        for i in coeff.indices { coeff[i] *= smax > 0 ? filter(singularValues[i], smax) : 0 }
        return vt.apply(coeff, transpose: true)
    }
}

/// Which BLAS/LAPACK build pnnlab is running on (for `pnnlab doctor`).
public enum LinearAlgebraBackend {
    /// OpenBLAS's build configuration string, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var description: String {
        guard let c = openblas_get_config() else { return "OpenBLAS (unknown configuration)" }
        return String(cString: c)
    }

    /// Threads OpenBLAS uses per call (after pnnlab's ``BLASThreads`` policy is applied).
    public static var threads: Int {
        BLASThreads.configure()
        return Int(openblas_get_num_threads())
    }
}

/// pnnlab's threading of BLAS and LAPACK, chosen by problem size and set once per process.
///
/// OpenBLAS's default (one thread per core, spin-waiting for work) makes small problems
/// slower, and on a loaded machine dramatically so: a CLLN learning step on a 300-node /
/// 1500-edge network (dense 300 × 300 LU solves) took 56–390 ms with default threads and
/// 20 ms with one. So on first use of PNNCore's linear algebra OpenBLAS is set to one thread
/// per call (`openblas_set_num_threads(1)`), and only products large enough to pay for it
/// — at least ``splitThreshold`` multiply-adds — are split by rows of C across the cores
/// (`DispatchQueue.concurrentPerform`, each part a one-thread `cblas_dgemm`), so large
/// batches still use every core while nothing spins. LU solves, SVDs and least squares run
/// on one thread: at the sizes pnnlab meets (≤ a few hundred unknowns) that is the fastest.
///
/// Setting `OPENBLAS_NUM_THREADS` (or `GOTO_NUM_THREADS`, `OMP_NUM_THREADS`) in the
/// environment opts out: OpenBLAS then keeps that count and pnnlab never splits products.
public enum BLASThreads {
    /// Multiply-adds (m·n·k) from which a matrix product is split across cores.
    public static let splitThreshold = 1 << 22

    /// Rows of C per part at least (smaller parts cost more in dispatch than they gain).
    static let minimumRowsPerPart = 32

    private struct Policy: Sendable {
        /// Parts a large product may be split into (1: never split).
        let cores: Int
        /// The environment variable that fixed OpenBLAS's thread count, if any.
        let userSetting: String?
    }

    private static let policy: Policy = {
        let environment = ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"]
        if let name = environment.first(where: { getenv($0) != nil }) {
            return Policy(cores: 1, userSetting: "\(name)=\(String(cString: getenv(name)))")
        }
        let cores = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        return Policy(cores: max(cores, 1), userSetting: nil)
    }()

    /// Applies the policy (once per process; later calls cost one atomic load).
    @inline(__always)
    public static func configure() { _ = policy }

    /// One line for reports: how BLAS is threaded in this process.
    public static var summary: String {
        let p = policy
        if let setting = p.userSetting {
            return "OpenBLAS threads from the environment (\(setting)), products not split"
        }
        return "OpenBLAS 1 thread per call; products ≥ \(splitThreshold) multiply-adds split over \(p.cores) cores"
    }

    /// Into how many row blocks a product with m rows of C and m·n·k multiply-adds is split.
    static func parts(m: Int, n: Int, k: Int) -> Int {
        let p = policy
        guard p.cores > 1,
            m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k)
                .partialValue >= splitThreshold
        else { return 1 }
        return max(1, min(p.cores, m / minimumRowsPerPart))
    }
}

/// In-place dense solves of small square systems, for inner loops (Newton steps of a
/// circuit solve): Gaussian elimination with partial pivoting below `lapackThreshold`
/// unknowns, `LAPACKE_dgesv` above it.
public enum DenseSolve {
    /// Systems at least this large go to LAPACK.
    public static let lapackThreshold = 48

    /// Solves A x = b for row-major n×n `a`; `b` is replaced by x and `a` destroyed.
    /// Returns false when A is singular.
    public static func solve(n: Int, a: inout [Double], b: inout [Double]) -> Bool {
        if n == 0 { return true }
        if n >= lapackThreshold {
            BLASThreads.configure()
            var pivots = [Int32](repeating: 0, count: n)
            let info = LAPACKE_dgesv(
                LAPACK_ROW_MAJOR, Int32(n), 1, &a, Int32(n), &pivots, &b, 1)
            return info == 0
        }
        return a.withUnsafeMutableBufferPointer { m in
            b.withUnsafeMutableBufferPointer { v in
                for k in 0..<n {
                    var p = k
                    var best = abs(m[k * n + k])
                    for r in (k + 1)..<n where abs(m[r * n + k]) > best {
                        best = abs(m[r * n + k])
                        p = r
                    }
                    if best == 0 || !best.isFinite { return false }
                    if p != k {
                        for c in k..<n { m.swapAt(k * n + c, p * n + c) }
                        v.swapAt(k, p)
                    }
                    let pivot = m[k * n + k]
                    for r in (k + 1)..<n {
                        let f = m[r * n + k] / pivot
                        if f == 0 { continue }
                        for c in (k + 1)..<n { m[r * n + c] -= f * m[k * n + c] }
                        v[r] -= f * v[k]
                    }
                }
                for k in stride(from: n - 1, through: 0, by: -1) {
                    var s = v[k]
                    for c in (k + 1)..<n { s -= m[k * n + c] * v[c] }
                    v[k] = s / m[k * n + k]
                }
                return true
            }
        }
    }
}
