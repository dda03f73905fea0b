import PNNCore
import Testing

/// A rows × cols matrix of rank `rank` (product of two random factors).
private func lowRank(_ rows: Int, _ cols: Int, rank: Int, seed: UInt64) -> Matrix {
    Reference.randomMatrix(rows, rank, seed: seed) * Reference.randomMatrix(rank, cols, seed: seed + 1)
}

@Suite("Linear algebra: SVD and solvers")
struct LinearAlgebraTests {
    @Test(arguments: [(7, 4, 4), (3, 6, 3), (6, 5, 2), (5, 5, 5), (1, 4, 1)])
    func svdReconstructsA(rows: Int, cols: Int, rank: Int) throws {
        let a =
            rank == min(rows, cols)
            ? Reference.randomMatrix(rows, cols, seed: 11) : lowRank(rows, cols, rank: rank, seed: 11)
        let svd = try a.svd()
        let k = min(rows, cols)
        #expect(svd.u.rows == rows && svd.u.cols == k && svd.vt.rows == k && svd.vt.cols == cols)
        #expect(svd.singularValues.count == k)
        let descending = zip(svd.singularValues, svd.singularValues.dropFirst()).allSatisfy { $0 >= $1 }
        let nonNegative = svd.singularValues.allSatisfy { $0 >= 0 }
        #expect(descending && nonNegative)
        var us = svd.u
        for r in 0..<rows { for c in 0..<k { us[r, c] *= svd.singularValues[c] } }
        #expect(Reference.maxDifference(us * svd.vt, a) < 1e-10)
        #expect(Reference.maxDifference(Matrix.product(svd.u, transposeA: true, svd.u), .identity(k)) < 1e-10)
        // A matrix of rank r has exactly r singular values above round-off.
        let significant = svd.singularValues.filter { $0 > 1e-10 * svd.singularValues[0] }
        #expect(significant.count == rank)
    }

    @Test func leastSquaresSolvesAConsistentOverdeterminedSystemExactly() throws {
        let a = Reference.randomMatrix(8, 3, seed: 12)
        let x = Matrix([[1, -2], [0.5, 3], [-4, 0.25]])
        let solution = try a.leastSquares(a * x)
        #expect(solution.rows == 3 && solution.cols == 2)
        #expect(Reference.maxDifference(solution, x) < 1e-10)
    }

    @Test func leastSquaresMinimisesTheResidualOfAnInconsistentSystem() throws {
        let a = Reference.randomMatrix(9, 3, seed: 13)
        let b = Reference.randomVector(9, seed: 14)
        let x = try a.leastSquares(Matrix(column: b)).storage
        // Normal equations: Aᵀ(Ax − b) = 0.
        let residual = zip(Reference.matVec(a, x), b).map { $0 - $1 }
        #expect(Reference.norm(Reference.matVec(a.transposed, residual)) < 1e-10)
    }

    @Test func leastSquaresGivesTheMinimumNormSolutionOfAnUnderdeterminedSystem() throws {
        let a = Reference.randomMatrix(3, 6, seed: 15)
        let b = Reference.randomVector(3, seed: 16)
        let x = try a.leastSquares(Matrix(column: b)).storage
        #expect(x.count == 6)
        #expect(Reference.maxDifference(Reference.matVec(a, x), b) < 1e-10)
        #expect(Reference.maxDifference(x, Reference.minimumNormSolution(a, b)) < 1e-10)
    }

    @Test func pseudoInverseOfARankDeficientSystemIsTheMinimumNormSolution() throws {
        // A = B·C with B 6×2 and C 2×4 of full rank: A⁺ = C⁺B⁺, so A⁺b = C⁺ (BᵀB)⁻¹ Bᵀ b.
        let bFactor = Reference.randomMatrix(6, 2, seed: 17)
        let cFactor = Reference.randomMatrix(2, 4, seed: 18)
        let a = bFactor * cFactor
        let rhs = Reference.matVec(a, Reference.randomVector(4, seed: 19))
        let bPlusRhs = Reference.solve(
            Matrix.product(bFactor, transposeA: true, bFactor), Reference.matVec(bFactor.transposed, rhs))
        let expected = Reference.minimumNormSolution(cFactor, bPlusRhs)
        let x = try a.pseudoInverseSolve(rhs, cutoff: 1e-10)
        #expect(Reference.maxDifference(x, expected) < 1e-9)
        #expect(Reference.maxDifference(Reference.matVec(a, x), rhs) < 1e-10)
        let viaLAPACK = try a.leastSquares(Matrix(column: rhs), rcond: 1e-10).storage
        #expect(Reference.maxDifference(x, viaLAPACK) < 1e-9)
    }

    @Test func pseudoInverseCutoffDropsTinySingularValues() throws {
        // A = U·diag(3, 1, 1e-12)·Vᵀ with orthogonal U, V taken from the SVD of random matrices.
        let u = try Reference.randomMatrix(3, 3, seed: 20).svd().u
        let v = try Reference.randomMatrix(3, 3, seed: 21).svd().u
        let sigma = [3.0, 1.0, 1e-12]
        var us = u
        for r in 0..<3 { for c in 0..<3 { us[r, c] *= sigma[c] } }
        let a = Matrix.product(us, v, transposeB: true)
        let b = [1.0, -2.0, 0.5]
        let ub = Reference.matVec(u.transposed, b)
        let expected = Reference.matVec(v, [ub[0] / 3, ub[1] / 1, 0])
        let truncated = try a.pseudoInverseSolve(b, cutoff: 1e-8)
        #expect(Reference.maxDifference(truncated, expected) < 1e-9)
        let untruncated = try a.pseudoInverseSolve(b, cutoff: 0)
        #expect(Reference.norm(untruncated) > 1e9)
    }

    @Test(arguments: [0.0, 1e-13])
    func dampedSolveWithVanishingLambdaMatchesLeastSquares(lambda: Double) throws {
        let a = Reference.randomMatrix(7, 4, seed: 22)
        let b = Reference.randomVector(7, seed: 23)
        let damped = try a.dampedLeastSquaresSolve(b, lambda: lambda)
        let plain = try a.leastSquares(Matrix(column: b)).storage
        #expect(Reference.maxDifference(damped, plain) < 1e-10)
    }

    @Test(arguments: [(7, 4), (3, 5), (4, 4)])
    func dampedSolveMatchesTheNormalEquations(rows: Int, cols: Int) throws {
        let a = Reference.randomMatrix(rows, cols, seed: 24)
        let b = Reference.randomVector(rows, seed: 25)
        for lambda in [0.01, 0.3, 10.0] {
            let damped = try a.dampedLeastSquaresSolve(b, lambda: lambda)
            #expect(Reference.maxDifference(damped, Reference.ridge(a, b, lambda: lambda)) < 1e-10, "λ = \(lambda)")
        }
    }

    @Test func undampedSolveIgnoresAnExactlyZeroDirection() throws {
        // A column of zeros (a device with no effect) gives a zero singular value; λ = 0
        // must still give the minimum-norm solution, not NaN.
        var a = Reference.randomMatrix(6, 3, seed: 26)
        for r in 0..<6 { a[r, 1] = 0 }
        let b = Reference.randomVector(6, seed: 27)
        let x = try a.dampedLeastSquaresSolve(b, lambda: 0)
        let finite = x.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(x[1] == 0)
        let reduced = Matrix(rows: 6, cols: 2, storage: (0..<6).flatMap { [a[$0, 0], a[$0, 2]] })
        let expected = try reduced.leastSquares(Matrix(column: b)).storage
        #expect(Reference.maxDifference([x[0], x[2]], expected) < 1e-10)
    }

    @Test func shapeMismatchesThrow() throws {
        let a = Reference.randomMatrix(4, 3, seed: 28)
        let errors = [
            try #require(throws: LinearAlgebraError.self) { try a.leastSquares(Matrix(rows: 5, cols: 1)) },
            try #require(throws: LinearAlgebraError.self) { try a.pseudoInverseSolve([1, 2, 3], cutoff: 1e-12) },
            try #require(throws: LinearAlgebraError.self) { try a.dampedLeastSquaresSolve([1, 2, 3, 4, 5], lambda: 0.1) },
        ]
        for error in errors {
            guard case .shapeMismatch(let message) = error else {
                Issue.record("expected shapeMismatch, got \(error)")
                continue
            }
            #expect(error.description == "shape mismatch: \(message)")
        }
    }
}
