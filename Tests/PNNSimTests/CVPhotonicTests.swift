import Foundation
import PNNCore
import Testing

@testable import PNNSim

/// Gaussian-state physics of the CV photonic twin (ħ = 2, xxpp), checked against closed forms.
@Suite struct CVPhotonicPhysicsTests {
    static func config(inputs: Int = 4, readouts: Int = 3, modes: Int = 5) -> CVPhotonicConfig {
        var c = CVPhotonicConfig()
        c.inputs = inputs
        c.readouts = readouts
        c.modes = modes
        c.squeezing = 0.4
        c.transmission = 0.8
        c.seed = 11
        return c
    }

    static func randomAngles(_ circuit: CVCircuit, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<circuit.parameterCount).map { _ in -Double.pi + 2 * Double.pi * rng.uniform() }
    }

    @Test func everyElementAndTheWholeCircuitIsSymplectic() throws {
        let n = 4
        for (theta, phi) in [(0.3, 1.1), (Double.pi / 4, 0), (-2.0, 2.9)] {
            #expect(Symplectic.defect(Symplectic.beamSplitter(theta: theta, phi: phi, modes: 1, 2, of: n)) < 1e-12)
        }
        for phi in [0.0, 0.7, -3.0] { #expect(Symplectic.defect(Symplectic.phaseShift(phi, mode: 3, of: n)) < 1e-12) }
        for r in [0.0, 0.5, -1.2] { #expect(Symplectic.defect(Symplectic.squeezer(r, mode: 0, of: n)) < 1e-12) }
        let circuit = try CVCircuit(config: Self.config())
        let angles = Self.randomAngles(circuit, seed: 3)
        let mesh = circuit.meshSymplectic(angles)
        #expect(Symplectic.defect(mesh) < 1e-12)
        #expect(Symplectic.defect(mesh * circuit.squeezerSymplectic) < 1e-12)
        // The fast mesh equals the product of the elements' own matrices.
        var product = Matrix.identity(2 * circuit.modes)
        for s in circuit.elementSymplectics(angles) { product = s * product }
        #expect(zip(product.storage, mesh.storage).map { abs($0 - $1) }.max()! < 1e-12)
        // A non-symplectic matrix is caught.
        var bad = mesh
        bad[0, 0] *= 1.01
        #expect(Symplectic.defect(bad) > 1e-3)
    }

    @Test func vacuumCovarianceIsIdentityWithHbarTwo() {
        let v = GaussianState.vacuum(modes: 3)
        #expect(v.covariance == .identity(6))
        #expect(v.means == Array(repeating: 0, count: 6))
        var coherent = v
        coherent.displace(mode: 1, real: 0.5, imaginary: -0.25)
        #expect(coherent.means == [0, 1, 0, 0, -0.5, 0])
        #expect(coherent.covariance == .identity(6))
    }

    @Test func fiftyFiftyBeamSplitterSplitsADisplacedMode() {
        var s = GaussianState.vacuum(modes: 2)
        s.displace(mode: 0, real: 1.5)
        s.apply(Symplectic.beamSplitter(theta: .pi / 4, phi: 0, modes: 0, 1, of: 2))
        // ⟨x₀⟩ = 3 splits into 3/√2 in each arm (U = [[c, −s], [s, c]]); vacuum stays vacuum.
        let arm = 3 / 2.0.squareRoot()
        #expect(abs(s.means[0] - arm) < 1e-12)
        #expect(abs(s.means[1] - arm) < 1e-12)
        #expect(abs(s.means[2]) < 1e-12 && abs(s.means[3]) < 1e-12)
        #expect(zip(s.covariance.storage, Matrix.identity(4).storage).allSatisfy { abs($0 - $1) < 1e-12 })
        // φ = π/2 puts the transmitted amplitude into p of mode 1.
        var q = GaussianState.vacuum(modes: 2)
        q.displace(mode: 0, real: 1.5)
        q.apply(Symplectic.beamSplitter(theta: .pi / 4, phi: .pi / 2, modes: 0, 1, of: 2))
        #expect(abs(q.means[1]) < 1e-12 && abs(q.means[3] - arm) < 1e-12)
    }

    @Test func squeezingGivesVariancesExpMinusAndPlusTwoR() {
        for r in [0.25, 0.8] {
            var s = GaussianState.vacuum(modes: 2)
            s.apply(Symplectic.squeezer(r, mode: 1, of: 2))
            #expect(abs(s.covariance[1, 1] - exp(-2 * r)) < 1e-12)
            #expect(abs(s.covariance[3, 3] - exp(2 * r)) < 1e-12)
            #expect(s.covariance[0, 0] == 1 && s.covariance[2, 2] == 1)
            // Uncertainty product at the vacuum bound: V_xx V_pp = (ħ/2)².
            #expect(abs(s.covariance[1, 1] * s.covariance[3, 3] - 1) < 1e-12)
        }
    }

    @Test func pureLossMixesTowardVacuum() {
        var s = GaussianState.vacuum(modes: 1)
        s.apply(Symplectic.squeezer(0.5, mode: 0, of: 1))
        s.displace(mode: 0, real: 2)
        let t = 0.6
        var all = s
        all.loss(transmission: t)
        #expect(abs(all.means[0] - t.squareRoot() * 4) < 1e-12)
        #expect(abs(all.covariance[0, 0] - (t * exp(-1) + 1 - t)) < 1e-12)
        #expect(abs(all.covariance[1, 1] - (t * exp(1) + 1 - t)) < 1e-12)
        var one = s
        one.loss(transmission: t, mode: 0)
        #expect(zip(one.covariance.storage, all.covariance.storage).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(one.means, all.means).allSatisfy { abs($0 - $1) < 1e-12 })
        // Total loss leaves vacuum.
        var gone = s
        gone.loss(transmission: 0)
        #expect(gone.covariance == .identity(2) && gone.means == [0, 0])
    }

    @Test func twinMeansMatchTheElementByElementStateAndAreAffine() async throws {
        var c = Self.config()
        c.exactMeans = true
        let twin = try CVPhotonicTwin(config: c)
        let alpha = [0.3, -1.2, 0.8, 2.0]
        let exact = try await twin.exactMeans(Matrix([alpha]))
        let state = await twin.outputState(inputs: alpha)
        for k in 0..<3 { #expect(abs(exact[0, k] - state.means[k]) < 1e-12) }
        // Linear in α: f(a + 2b) = f(a) + 2 f(b).
        let b = [1.0, 0.5, -0.5, 0.25]
        let sum = zip(alpha, b).map { $0 + 2 * $1 }
        let y = try await twin.exactMeans(Matrix([alpha, b, sum]))
        for k in 0..<3 { #expect(abs(y[2, k] - y[0, k] - 2 * y[1, k]) < 1e-12) }
    }

    /// A read averages `shots` shots, so its variance is V_xx / shots. With n = 4000 reads the
    /// sample variance has a relative standard error √(2/n) ≈ 2.2 %; the tolerance is 10 %
    /// (4.5 σ), and the seeded generator makes the outcome reproducible.
    @Test func shotNoiseVarianceOfTheHomodyneMeanIsVxxOverShots() async throws {
        var c = Self.config(inputs: 2, readouts: 2, modes: 3)
        c.shots = 50
        let twin = try CVPhotonicTwin(config: c)
        let alpha = Matrix([[0.5, -0.5]])
        let mean = try await twin.exactMeans(alpha)
        let vxx = await twin.outputState(inputs: [0.5, -0.5]).xCovariance([0, 1])
        #expect(abs(vxx[0, 0] - 1) > 0.05)  // squeezed and lossy: not the vacuum value
        let n = 4000
        var samples: [[Double]] = []
        for _ in 0..<n { samples.append(try await twin.measure(alpha).row(0)) }
        for k in 0..<2 {
            let m = samples.map { $0[k] }.reduce(0, +) / Double(n)
            let v = samples.map { ($0[k] - m) * ($0[k] - m) }.reduce(0, +) / Double(n - 1)
            let expected = vxx[k, k] / Double(c.shots)
            #expect(abs(v / expected - 1) < 0.1, "mode \(k): variance \(v), V_xx/shots \(expected)")
            #expect(abs(m - mean[0, k]) < 5 * (expected / Double(n)).squareRoot())
        }
        let cov = samples.map { ($0[0] - mean[0, 0]) * ($0[1] - mean[0, 1]) }.reduce(0, +) / Double(n)
        #expect(abs(cov - vxx[0, 1] / Double(c.shots)) < 0.15 * (vxx[0, 0] * vxx[1, 1]).squareRoot() / Double(c.shots))
    }

    @Test func exportImportGivesIdenticalOutputs() async throws {
        let a = try CVPhotonicTwin(config: Self.config())
        let angles = Self.randomAngles(a.circuit, seed: 8)
        _ = try await a.setParameters(angles)
        _ = try await a.measure(Matrix([[0.1, 0.2, 0.3, 0.4]]))  // advance the noise stream
        let b = try CVPhotonicTwin(importing: try await a.exportState())
        #expect(await b.readParameters() == angles)
        let x = Matrix([[0.5, -0.2, 1.0, 0.0], [-1, 1, -1, 1]])
        let ya = try await a.measure(x)
        let yb = try await b.measure(x)
        #expect(ya == yb)
        #expect(b.descriptor == a.descriptor)
        // A state with another ħ or ordering is refused.
        var doc = try JSONDecoder().decode(CVPhotonicStateDocument.self, from: try await a.exportState())
        doc.ordering = "xpxp"
        #expect(throws: CVPhotonicError.self) { try CVPhotonicTwin(importing: try JSONEncoder().encode(doc)) }
    }

    @Test func refusesAnglesAndAmplitudesOutsideTheirRanges() async throws {
        let twin = try CVPhotonicTwin(config: Self.config())
        let p = twin.descriptor.parameters.count
        await #expect(throws: CVPhotonicError.self) {
            _ = try await twin.uncheckedProgram(Array(repeating: 4, count: p))
        }
        await #expect(throws: CVPhotonicError.self) {
            _ = try await twin.uncheckedMeasure(Matrix([[0, 0, 0, 3.5]]))
        }
        #expect(throws: CVPhotonicError.self) {
            var c = Self.config()
            c.transmission = 0
            _ = try CVCircuit(config: c)
        }
    }
}
