import Foundation
import PNNCore
import Testing

@Suite("Matrix")
struct MatrixTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesTheTripleLoop(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (5, 3, 7)
        let a = Reference.randomMatrix(transposeA ? k : m, transposeA ? m : k, seed: 1)
        let b = Reference.randomMatrix(transposeB ? n : k, transposeB ? k : n, seed: 2)
        let c = Matrix.product(a, transposeA: transposeA, b, transposeB: transposeB)
        let expected = Reference.product(a, transposeA: transposeA, b, transposeB: transposeB)
        #expect(c.rows == m && c.cols == n)
        #expect(Reference.maxDifference(c, expected) < 1e-13)
    }

    @Test func gemmAccumulatesWithAlphaAndBeta() {
        let a = Reference.randomMatrix(4, 6, seed: 3)
        let b = Reference.randomMatrix(6, 2, seed: 4)
        let c0 = Reference.randomMatrix(4, 2, seed: 5)
        var c = c0
        Matrix.gemm(a, b, alpha: 2, beta: 0.5, into: &c)
        let expected = 2 * Reference.product(a, b) + 0.5 * c0
        #expect(Reference.maxDifference(c, expected) < 1e-13)
        #expect(Reference.maxDifference(a * b, Reference.product(a, b)) < 1e-13)
    }

    @Test func gemmWithEmptyInnerDimensionScalesC() {
        var c = Matrix([[1, 2], [3, 4]])
        Matrix.gemm(Matrix(rows: 2, cols: 0), Matrix(rows: 0, cols: 2), beta: 3, into: &c)
        #expect(c == Matrix([[3, 6], [9, 12]]))
    }

    @Test func gemvBothWays() {
        let a = Reference.randomMatrix(5, 3, seed: 6)
        let x3 = Reference.randomVector(3, seed: 7)
        let x5 = Reference.randomVector(5, seed: 8)
        #expect(Reference.maxDifference(a.apply(x3), Reference.matVec(a, x3)) < 1e-14)
        #expect(Reference.maxDifference(a.apply(x5, transpose: true), Reference.matVec(a.transposed, x5)) < 1e-14)
        #expect(Matrix(rows: 0, cols: 3).apply(x3) == [])
        #expect(Matrix(rows: 3, cols: 0).apply([], transpose: false) == [0, 0, 0])
    }

    @Test func transpose() {
        let a = Matrix([[1, 2, 3], [4, 5, 6]])
        #expect(a.transposed == Matrix([[1, 4], [2, 5], [3, 6]]))
        let r = Reference.randomMatrix(4, 7, seed: 9)
        #expect(r.transposed.transposed == r)
        #expect(r.transposed.rows == 7 && r.transposed.cols == 4)
    }

    @Test func vstackKeepsOrder() {
        let top = Matrix([[1, 2], [3, 4]])
        let bottom = Matrix([[5, 6]])
        let empty = Matrix(rows: 0, cols: 2)
        #expect(Matrix.vstack([top, empty, bottom]) == Matrix([[1, 2], [3, 4], [5, 6]]))
        #expect(Matrix.vstack([]) == Matrix(rows: 0, cols: 0))
        let stackedWithoutColumns = Matrix.vstack([Matrix(rows: 3, cols: 0), Matrix(rows: 2, cols: 0)])
        #expect(stackedWithoutColumns.rows == 5 && stackedWithoutColumns.cols == 0)
    }

    @Test func rowSliceAndRowsAt() {
        let a = Matrix([[0, 0], [1, 10], [2, 20], [3, 30]])
        #expect(a.rowSlice(1..<3) == Matrix([[1, 10], [2, 20]]))
        #expect(a.rowSlice(2..<2).rows == 0)
        #expect(a.rows(at: [3, 0, 3]) == Matrix([[3, 30], [0, 0], [3, 30]]))
        #expect(a.rows(at: []) == Matrix(rows: 0, cols: 2))
        #expect(a.row(2) == [2, 20] && a.column(1) == [0, 10, 20, 30])
    }

    @Test func norm() {
        #expect(Matrix(column: [3, 4]).norm == 5)
        let r = Reference.randomMatrix(6, 5, seed: 10)
        #expect(abs(r.norm - Reference.norm(r.storage)) < 1e-14)
        // nrm2 scales, so huge entries do not overflow.
        #expect(abs(Matrix(column: [3e200, 4e200]).norm / 5e200 - 1) < 1e-15)
        #expect(Matrix(rows: 0, cols: 0).norm == 0)
    }

    @Test func constructorsAndArithmetic() throws {
        #expect(Matrix.identity(2) == Matrix([[1, 0], [0, 1]]))
        let a = Matrix([[1, 2], [3, 4]])
        #expect(a + a == 2 * a)
        #expect(a - a == Matrix(rows: 2, cols: 2))
        #expect(a * Matrix.identity(2) == a)
        let json = try JSONEncoder().encode(a)
        #expect(try JSONDecoder().decode(Matrix.self, from: json) == a)
    }
}
