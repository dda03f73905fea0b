import Foundation
import PNNCore
import Testing

/// Mean, standard deviation, excess-free kurtosis (3 for a Gaussian) of `xs`.
private func moments(_ xs: [Double]) -> (mean: Double, sd: Double, kurtosis: Double) {
    let n = Double(xs.count)
    let mean = xs.reduce(0, +) / n
    let m2 = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
    let m4 = xs.reduce(0) { $0 + pow($1 - mean, 4) } / n
    return (mean, m2.squareRoot(), m4 / (m2 * m2))
}

@Suite("SeededRandom")
struct SeededRandomTests {
    @Test func matchesTheReferenceXoshiro256StarStar() {
        // Reference values from an independent implementation (SplitMix64 seeding).
        var zero = SeededRandom(seed: 0)
        #expect(
            [zero.next(), zero.next(), zero.next()] == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
        var fortyTwo = SeededRandom(seed: 42)
        #expect(
            [fortyTwo.next(), fortyTwo.next(), fortyTwo.next()] == [
                0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1,
            ])
    }

    @Test func sameSeedSameStream() {
        var a = SeededRandom(seed: 1234)
        var b = SeededRandom(seed: 1234)
        var c = SeededRandom(seed: 1235)
        let sa = (0..<1000).map { _ in a.next() }
        #expect(sa == (0..<1000).map { _ in b.next() })
        #expect(Set(sa).isDisjoint(with: (0..<1000).map { _ in c.next() }))
    }

    @Test func derivedStreamsDifferAndAreReproducible() {
        func draws(_ stream: UInt64, seed: UInt64 = 7) -> [UInt64] {
            var rng = SeededRandom.derived(seed: seed, stream: stream)
            return (0..<1000).map { _ in rng.next() }
        }
        #expect(draws(1) == draws(1))
        let streams = (0..<4).map { draws($0) }
        for i in 0..<4 {
            for j in (i + 1)..<4 { #expect(Set(streams[i]).isDisjoint(with: streams[j]), "streams \(i) and \(j) overlap") }
        }
        #expect(Set(draws(1, seed: 7)).isDisjoint(with: draws(1, seed: 8)))
    }

    @Test func uniformIsInTheUnitIntervalAndUnbiased() {
        var rng = SeededRandom(seed: 3)
        let xs = (0..<100_000).map { _ in rng.uniform() }
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        let (mean, sd, _) = moments(xs)
        #expect(abs(mean - 0.5) < 0.005)  // σ of the mean ≈ 0.0009
        #expect(abs(sd - (1.0 / 12).squareRoot()) < 0.003)
    }

    @Test func normalHasZeroMeanUnitVarianceAndGaussianTails() {
        var rng = SeededRandom(seed: 5)
        let xs = (0..<100_000).map { _ in rng.normal() }
        let (mean, sd, kurtosis) = moments(xs)
        #expect(abs(mean) < 0.015)  // σ of the mean ≈ 0.0032
        #expect(abs(sd - 1) < 0.01)  // σ of the sd ≈ 0.0022
        #expect(abs(kurtosis - 3) < 0.1)  // σ ≈ 0.015; a uniform has 1.8, a Laplace 6
        let withinOneSigma = Double(xs.filter { abs($0) < 1 }.count) / Double(xs.count)
        #expect(abs(withinOneSigma - 0.6827) < 0.006)
        #expect(xs.allSatisfy { $0.isFinite })
    }

    @Test func scaledNormalAndRademacher() {
        var rng = SeededRandom(seed: 9)
        let (mean, sd, _) = moments((0..<100_000).map { _ in rng.normal(mean: 5, sd: 2) })
        #expect(abs(mean - 5) < 0.03 && abs(sd - 2) < 0.02)
        let signs = (0..<100_000).map { _ in rng.rademacher() }
        #expect(signs.allSatisfy { $0 == 1 || $0 == -1 })
        #expect(abs(signs.reduce(0, +) / 100_000) < 0.015)
    }

    @Test func codableStateContinuesTheSameStream() throws {
        var rng = SeededRandom(seed: 77)
        for _ in 0..<37 { _ = rng.next() }
        _ = rng.normal()
        let restored = try JSONDecoder().decode(SeededRandom.self, from: JSONEncoder().encode(rng))
        #expect(restored == rng)
        var copy = restored
        let expected = (0..<100).map { _ in rng.next() }
        #expect((0..<100).map { _ in copy.next() } == expected)
    }
}
