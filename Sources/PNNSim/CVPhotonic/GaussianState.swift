import Foundation
import PNNCore

/// A Gaussian state of N optical modes: 2N quadrature means and the 2N × 2N covariance,
/// with ħ = 2 (vacuum covariance (ħ/2)·I = I) and **xxpp ordering** (x₀ … x_{N−1},
/// p₀ … p_{N−1}), as in thewalrus. A coherent state |α⟩ has ⟨x⟩ = 2 Re α, ⟨p⟩ = 2 Im α.
public struct GaussianState: Sendable, Codable, Equatable {
    /// ħ used throughout: 2, so the vacuum quadrature variance is 1.
    public static let hbar = 2.0

    /// Number of modes N.
    public private(set) var modes: Int
    /// Quadrature means, xxpp order (2N values).
    public var means: [Double]
    /// Quadrature covariance V_ij = ½⟨{Δr_i, Δr_j}⟩, xxpp order (2N × 2N).
    public var covariance: Matrix

    /// The vacuum on `modes` modes: zero means, covariance (ħ/2)·I = I.
    public static func vacuum(modes: Int) -> GaussianState {
        GaussianState(modes: modes, means: Array(repeating: 0, count: 2 * modes), covariance: .identity(2 * modes))
    }

    public init(modes: Int, means: [Double], covariance: Matrix) {
        precondition(means.count == 2 * modes && covariance.rows == 2 * modes && covariance.cols == 2 * modes)
        self.modes = modes
        self.means = means
        self.covariance = covariance
    }

    /// Applies a Gaussian unitary with symplectic `s`: μ → S μ, V → S V Sᵀ.
    public mutating func apply(_ s: Matrix) {
        means = s.apply(means)
        covariance = s * covariance * s.transposed
    }

    /// Displaces mode `k` by the complex amplitude α = re + i·im: ⟨x_k⟩ += 2·re,
    /// ⟨p_k⟩ += 2·im (√(2ħ) α with ħ = 2).
    public mutating func displace(mode k: Int, real re: Double, imaginary im: Double = 0) {
        let scale = (2 * Self.hbar).squareRoot()
        means[k] += scale * re
        means[modes + k] += scale * im
    }

    /// A pure-loss channel of transmission T on every mode (the mode mixed with vacuum on
    /// a beam splitter of transmissivity T): μ → √T μ, V → T V + (1 − T)(ħ/2) I.
    public mutating func loss(transmission t: Double) {
        precondition(t >= 0 && t <= 1, "transmission must lie in [0, 1]")
        let root = t.squareRoot()
        means = means.map { root * $0 }
        covariance = t * covariance + ((1 - t) * Self.hbar / 2) * Matrix.identity(2 * modes)
    }

    /// A pure-loss channel of transmission T on mode `k` only.
    public mutating func loss(transmission t: Double, mode k: Int) {
        precondition(t >= 0 && t <= 1, "transmission must lie in [0, 1]")
        let root = t.squareRoot()
        let n = modes
        for q in [k, n + k] {
            means[q] *= root
            for c in 0..<(2 * n) {
                covariance[q, c] *= root
                covariance[c, q] *= root
            }
            covariance[q, q] += (1 - t) * Self.hbar / 2
        }
    }

    /// ⟨x⟩ of `readouts` modes.
    public func meanX(_ readouts: [Int]) -> [Double] { readouts.map { means[$0] } }

    /// The x-x block of the covariance restricted to `readouts`.
    public func xCovariance(_ readouts: [Int]) -> Matrix {
        var m = Matrix(rows: readouts.count, cols: readouts.count)
        for (a, i) in readouts.enumerated() { for (b, j) in readouts.enumerated() { m[a, b] = covariance[i, j] } }
        return m
    }
}
