import CBLAS

extension Matrix {
    /// X solving A·X = B for a symmetric positive-definite A (this matrix) through
    /// `LAPACKE_dposv` (Cholesky); throws when A is not positive definite.
    public func solveSymmetricPositiveDefinite(_ b: Matrix) throws(LinearAlgebraError) -> Matrix {
        guard rows == cols else { throw .shapeMismatch("Cholesky solve: A is \(rows)×\(cols), not square") }
        guard b.rows == rows else { throw .shapeMismatch("Cholesky solve: A has \(rows) rows, B has \(b.rows)") }
        if rows == 0 || b.cols == 0 { return Matrix(rows: rows, cols: b.cols) }
        var a = storage
        var x = b.storage
        BLASThreads.configure()
        let info = LAPACKE_dposv(
            LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "U")), Int32(rows), Int32(b.cols), &a, Int32(rows), &x, Int32(b.cols))
        if info > 0 { throw .didNotConverge(routine: "dposv (matrix not positive definite)", info: info) }
        if info < 0 { throw .invalidArgument(routine: "dposv", info: info) }
        return Matrix(rows: rows, cols: b.cols, storage: x)
    }
}
