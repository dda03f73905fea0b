import CBLAS

/// The eigen-decomposition A = V · diag(λ) · Vᵀ of a real symmetric matrix: the eigenvalues
/// ascending, the orthonormal eigenvectors as the columns of `vectors`.
public struct SymmetricEigen: Sendable {
    /// n eigenvalues, ascending.
    public var values: [Double]
    /// n × n; column j is the eigenvector of `values[j]`.
    public var vectors: Matrix
}

extension Matrix {
    /// Eigenvalues and eigenvectors of this symmetric matrix (its upper triangle is read)
    /// through `LAPACKE_dsyevd` (divide and conquer).
    public func symmetricEigen() throws(LinearAlgebraError) -> SymmetricEigen {
        guard rows == cols else { throw .shapeMismatch("eigen-decomposition: A is \(rows)×\(cols), not square") }
        var a = storage
        var w = [Double](repeating: 0, count: rows)
        if rows == 0 { return SymmetricEigen(values: w, vectors: self) }
        BLASThreads.configure()
        let info = LAPACKE_dsyevd(
            LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(rows), &a, Int32(rows), &w)
        if info > 0 { throw .didNotConverge(routine: "dsyevd", info: info) }
        if info < 0 { throw .invalidArgument(routine: "dsyevd", info: info) }
        return SymmetricEigen(values: w, vectors: Matrix(rows: rows, cols: rows, storage: a))
    }
}
