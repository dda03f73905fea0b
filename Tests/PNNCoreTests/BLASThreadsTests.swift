import Foundation
import Testing

@testable import PNNCore

/// pnnlab's BLAS threading policy: one OpenBLAS thread per call, large products split by
/// rows of C over the cores — and the split products equal the unsplit ones.
@Suite("BLAS threads")
struct BLASThreadsTests {
    static let fromEnvironment = ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"].contains {
        ProcessInfo.processInfo.environment[$0] != nil
    }

    @Test func openBLASRunsOneThreadPerCallUnlessTheEnvironmentSaysOtherwise() {
        if Self.fromEnvironment {
            #expect(BLASThreads.summary.contains("from the environment"))
            #expect(BLASThreads.parts(m: 4096, n: 4096, k: 4096) == 1)
        } else {
            #expect(LinearAlgebraBackend.threads == 1)
            #expect(BLASThreads.summary.hasPrefix("OpenBLAS 1 thread per call"))
        }
    }

    @Test func onlyLargeProductsAreSplit() {
        #expect(BLASThreads.parts(m: 300, n: 1, k: 300) == 1)  // a Newton step's gemv-sized work
        #expect(BLASThreads.parts(m: 64, n: 64, k: 64) == 1)
        #expect(BLASThreads.parts(m: 16, n: 4096, k: 4096) == 1)  // too few rows to share
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if !Self.fromEnvironment && cores > 1 {
            #expect(BLASThreads.parts(m: 256, n: 128, k: 1024) > 1)
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func splitProductsMatchTheTripleLoop(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (203, 161, 157)  // 5.1 M multiply-adds: above the split threshold, odd row blocks
        #expect(m * n * k >= BLASThreads.splitThreshold)
        let a = Reference.randomMatrix(transposeA ? k : m, transposeA ? m : k, seed: 11)
        let b = Reference.randomMatrix(transposeB ? n : k, transposeB ? k : n, seed: 12)
        let c0 = Reference.randomMatrix(m, n, seed: 13)
        var c = c0
        Matrix.gemm(a, transposeA: transposeA, b, transposeB: transposeB, alpha: 1.5, beta: -0.5, into: &c)
        let expected = 1.5 * Reference.product(a, transposeA: transposeA, b, transposeB: transposeB) + -0.5 * c0
        #expect(Reference.maxDifference(c, expected) < 1e-11)
    }

    @Test func largeDenseSolvesStayExact() {
        let n = 300
        var rng = SeededRandom(seed: 5)
        var a = (0..<(n * n)).map { _ in rng.uniform() - 0.5 }
        for i in 0..<n { a[i * n + i] += Double(n) }
        let x = (0..<n).map { Double($0) / Double(n) - 0.5 }
        var b = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + a[i * n + $1] * x[$1] } }
        #expect(DenseSolve.solve(n: n, a: &a, b: &b))
        #expect(zip(b, x).map { abs($0 - $1) }.max()! < 1e-12)
    }
}
