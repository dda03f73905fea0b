import Foundation
import PNNCore

/// The trainable Gaussian circuit of `sim:cv-photonic` (see `CVPhotonicConfig` for its
/// order of elements); ħ = 2, xxpp ordering.
///
/// Parameter order (the `Substrate`'s θ): for each beam splitter of the rectangular mesh
/// (layer by layer; in layer l the pairs (i, i+1) with i = l mod 2, l mod 2 + 2, …), its θ
/// then its φ; then the final phase of mode 0 … N−1. All in radians.
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
    /// Number of trainable angles: 2 per beam splitter plus one phase per mode.
    public var parameterCount: Int { 2 * beamSplitters.count + modes }

    /// Safe range of every angle, radians.
    public static let angleRange: ClosedRange<Double> = -Double.pi...Double.pi

    /// The mesh's unitary U (real and imaginary parts, N × N) for `angles`.
    public func unitary(_ angles: [Double]) -> (re: Matrix, im: Matrix) {
        precondition(angles.count == parameterCount)
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

    /// The mesh's symplectic matrix (beam splitters and final phases; 2N × 2N, xxpp).
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
    /// element by element: vacuum, squeezers, displacement, mesh, loss.
    public func outputState(angles: [Double], inputs alpha: [Double]) -> GaussianState {
        precondition(alpha.count == config.inputs)
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
