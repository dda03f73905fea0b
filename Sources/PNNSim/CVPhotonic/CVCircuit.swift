import Foundation
import PNNCore

/// The trainable Gaussian circuit of `sim:cv-photonic` (see `CVPhotonicConfig` for its
/// order of elements); ħ = 2, xxpp ordering.
///
/// Parameter order (the `Substrate`'s θ): for each beam splitter of the rectangular mesh
/// (layer by layer; in layer l the pairs (i, i+1) with i = l mod 2, l mod 2 + 2, …), its θ
/// then its φ; then the final phase of mode 0 … N−1. All in radians. The multiplier layout
/// has two such meshes, A (before the squeezers) then B (after them), in that order.
public struct CVCircuit: Sendable, Equatable {
    public let config: CVPhotonicConfig
    /// The mesh's beam splitters as mode pairs, in the order they act.
    public let beamSplitters: [(Int, Int)]

    public init(config: CVPhotonicConfig) throws(CVPhotonicError) {
        self.config = try config.validated()
        let n = config.modeCount
        var pairs: [(Int, Int)] = []
        for layer in 0..<config.layerCount {
            var i = layer % 2
            while i + 1 < n {
                pairs.append((i, i + 1))
                i += 2
            }
        }
        beamSplitters = pairs
    }

    public static func == (a: CVCircuit, b: CVCircuit) -> Bool { a.config == b.config }

    /// Number of modes N.
    public var modes: Int { config.modeCount }
    /// Trainable angles of one mesh: 2 per beam splitter plus one phase per mode.
    public var meshParameterCount: Int { 2 * beamSplitters.count + modes }
    /// Number of trainable angles: one mesh, or two for the multiplier.
    public var parameterCount: Int { config.layout == .multiplier ? 2 * meshParameterCount : meshParameterCount }

    /// The multiplier's two meshes' angles (A, before the squeezers; B, after them).
    public func meshAngles(_ angles: [Double]) -> (a: [Double], b: [Double]) {
        precondition(angles.count == 2 * meshParameterCount)
        return (Array(angles[0..<meshParameterCount]), Array(angles[meshParameterCount...]))
    }

    /// Squeezing parameter of mode k in the multiplier for control value u₀: r ± κ·u₀, + on
    /// even modes, − on odd ones.
    public func multiplierSqueezing(mode k: Int, control u0: Double) -> Double {
        config.squeezing + (k % 2 == 0 ? 1 : -1) * config.squeezeGain * u0
    }

    /// Safe range of every angle, radians.
    public static let angleRange: ClosedRange<Double> = -Double.pi...Double.pi

    /// One mesh's unitary U (real and imaginary parts, N × N) for its `angles`.
    public func unitary(_ angles: [Double]) -> (re: Matrix, im: Matrix) {
        precondition(angles.count == meshParameterCount)
        let n = modes
        var re = Matrix.identity(n)
        var im = Matrix(rows: n, cols: n)
        for (b, (i, j)) in beamSplitters.enumerated() {
            let (br, bi) = Symplectic.beamSplitterUnitary(theta: angles[2 * b], phi: angles[2 * b + 1])
            // U ← B U on rows i and j (complex 2 × 2 times 2 × N).
            for c in 0..<n {
                let (ar, ai, cr, ci) = (re[i, c], im[i, c], re[j, c], im[j, c])
                re[i, c] = br[0][0] * ar - bi[0][0] * ai + br[0][1] * cr - bi[0][1] * ci
                im[i, c] = br[0][0] * ai + bi[0][0] * ar + br[0][1] * ci + bi[0][1] * cr
                re[j, c] = br[1][0] * ar - bi[1][0] * ai + br[1][1] * cr - bi[1][1] * ci
                im[j, c] = br[1][0] * ai + bi[1][0] * ar + br[1][1] * ci + bi[1][1] * cr
            }
        }
        let offset = 2 * beamSplitters.count
        for k in 0..<n {
            let (cp, sp) = (cos(angles[offset + k]), sin(angles[offset + k]))
            for c in 0..<n {
                let (ar, ai) = (re[k, c], im[k, c])
                re[k, c] = cp * ar - sp * ai
                im[k, c] = cp * ai + sp * ar
            }
        }
        return (re, im)
    }

    /// One mesh's symplectic matrix (beam splitters and final phases; 2N × 2N, xxpp).
    public func meshSymplectic(_ angles: [Double]) -> Matrix {
        let u = unitary(angles)
        return Symplectic.passive(real: u.re, imaginary: u.im)
    }

    /// The same matrix as `meshSymplectic`, built as the product of every element's own
    /// 2N × 2N symplectic (slow; the reference the fast path is tested against).
    public func elementSymplectics(_ angles: [Double]) -> [Matrix] {
        let n = modes
        var out: [Matrix] = []
        for (b, (i, j)) in beamSplitters.enumerated() {
            out.append(Symplectic.beamSplitter(theta: angles[2 * b], phi: angles[2 * b + 1], modes: i, j, of: n))
        }
        let offset = 2 * beamSplitters.count
        for k in 0..<n { out.append(Symplectic.phaseShift(angles[offset + k], mode: k, of: n)) }
        return out
    }

    /// The squeezers' symplectic (every mode squeezed by r along x).
    public var squeezerSymplectic: Matrix {
        let n = modes
        var s = Matrix.identity(2 * n)
        for k in 0..<n {
            s[k, k] = exp(-config.squeezing)
            s[n + k, n + k] = exp(config.squeezing)
        }
        return s
    }

    /// The state reaching the detectors for input amplitudes α (one per input line), built
    /// element by element: vacuum, squeezers, displacement, mesh, loss (the multiplier:
    /// vacuum, displacements, mesh A, input-set squeezers, mesh B, loss).
    public func outputState(angles: [Double], inputs alpha: [Double]) -> GaussianState {
        precondition(alpha.count == config.inputs)
        if config.layout == .multiplier {
            let (a, b) = meshAngles(angles)
            var state = GaussianState.vacuum(modes: modes)
            for j in 1..<alpha.count { state.displace(mode: j - 1, real: alpha[j]) }
            for s in elementSymplectics(a) { state.apply(s) }
            for k in 0..<modes {
                state.apply(Symplectic.squeezer(multiplierSqueezing(mode: k, control: alpha[0]), mode: k, of: modes))
            }
            for s in elementSymplectics(b) { state.apply(s) }
            state.loss(transmission: config.transmission)
            return state
        }
        var state = GaussianState.vacuum(modes: modes)
        state.apply(squeezerSymplectic)
        for (j, a) in alpha.enumerated() { state.displace(mode: j, real: a) }
        for s in elementSymplectics(angles) { state.apply(s) }
        state.loss(transmission: config.transmission)
        return state
    }

    /// Detector-side covariance T·S V_sq Sᵀ + (1 − T)·I for a mesh symplectic `s` (it does
    /// not depend on the inputs: displacements move only the means).
    public func detectedCovariance(mesh s: Matrix) -> Matrix {
        var state = GaussianState.vacuum(modes: modes)
        state.apply(squeezerSymplectic)
        state.apply(s)
        state.loss(transmission: config.transmission)
        return state.covariance
    }

    /// Multiplier: the readout modes' exact ⟨x⟩ and their x-x covariance for one input
    /// vector, given mesh A's and mesh B's symplectics (the fast path `outputState` is
    /// tested against). Means: √T·S_B·Sq(u₀)·S_A·μ_in; covariance T·S_B Sq² S_Bᵀ + (1 − T)·I
    /// (mesh A is passive, so it leaves the vacuum alone).
    public func multiplierReadout(meshA sa: Matrix, meshB sb: Matrix, inputs alpha: [Double]) -> (
        means: [Double], covariance: Matrix
    ) {
        let n = modes
        var mu = [Double](repeating: 0, count: 2 * n)
        let scale = (2 * GaussianState.hbar).squareRoot()  // ⟨x⟩ = 2α with ħ = 2
        for j in 1..<alpha.count {
            let m = j - 1
            for r in 0..<(2 * n) { mu[r] += sa[r, m] * scale * alpha[j] }
        }
        var down = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let e = exp(-multiplierSqueezing(mode: k, control: alpha[0]))
            down[k] = e
            mu[k] *= e
            mu[n + k] /= e
        }
        let t = config.transmission
        let k = config.readouts
        var means = [Double](repeating: 0, count: k)
        var cov = Matrix(rows: k, cols: k)
        for i in 0..<k {
            var x = 0.0
            for r in 0..<(2 * n) { x += sb[i, r] * mu[r] }
            means[i] = t.squareRoot() * x
            for j in 0...i {
                var v = 0.0
                for m in 0..<n {
                    v += sb[i, m] * sb[j, m] * down[m] * down[m] + sb[i, n + m] * sb[j, n + m] / (down[m] * down[m])
                }
                v = t * v + (i == j ? 1 - t : 0)
                cov[i, j] = v
                cov[j, i] = v
            }
        }
        return (means, cov)
    }

    /// Readout modes 0 ..< readouts.
    public var readoutModes: [Int] { Array(0..<config.readouts) }
}

/// Homodyne detection of x on some modes: a read is the mean of `shots` shots, so it is
/// drawn from N(⟨x⟩, V_xx / shots) with V_xx the readout modes' x-x covariance block
/// (vacuum noise included: V_xx = 1 for vacuum with ħ = 2).
public struct HomodyneX: Sendable, Equatable {
    /// Shots averaged per read.
    public let shots: Int
    /// Cholesky factor L of V_xx / shots (lower triangular, L Lᵀ = V_xx / shots).
    public let noiseFactor: Matrix

    public init(covariance vxx: Matrix, shots: Int) throws(CVPhotonicError) {
        precondition(shots >= 1)
        self.shots = shots
        let k = vxx.rows
        var l = Matrix(rows: k, cols: k)
        for i in 0..<k {
            for j in 0...i {
                var sum = vxx[i, j] / Double(shots)
                for m in 0..<j { sum -= l[i, m] * l[j, m] }
                if i == j {
                    guard sum > 0 else {
                        throw .invalidSetting("the readout covariance is not positive definite (a non-physical state)")
                    }
                    l[i, i] = sum.squareRoot()
                } else {
                    l[i, j] = sum / l[j, j]
                }
            }
        }
        noiseFactor = l
    }

    /// One read: exact means plus correlated shot noise.
    public func read(means: [Double], rng: inout SeededRandom) -> [Double] {
        let k = means.count
        let z = (0..<k).map { _ in rng.normal() }
        var out = means
        for i in 0..<k { for m in 0...i { out[i] += noiseFactor[i, m] * z[m] } }
        return out
    }
}
