import Foundation
import PNNCore

/// How a Mode B (target-referenced, Gauss–Newton) step inverts the Jacobian.
public enum PseudoInverseSolver: String, Sendable, Codable, CaseIterable {
    /// Δθ = (JᵀJ + λI)⁻¹ Jᵀ e with λ = `damping` · σ_max² (Levenberg–Marquardt style).
    case damped
    /// Δθ = J⁺ e with singular values below `cutoff` · σ_max dropped (truncated SVD).
    case svd
}

/// The parameter updates of the PCPL modes (seed 000):
/// Mode A Δθ = −η Jᵀ r (gradient), Mode B Δθ = η J⁺ e toward an output-space target.
public enum UpdateRule {
    /// Mode A: Δθ = −η Jᵀ g, with g = ∂L/∂y flattened like J's rows.
    public static func gradientStep(jacobian: Matrix, lossGradient: [Double], learningRate: Double) -> [Double] {
        jacobian.apply(lossGradient, transpose: true).map { -learningRate * $0 }
    }

    /// Mode B: Δθ = η J⁺ e, where e is the output change wanted (µA, flattened).
    public static func gaussNewtonStep(
        jacobian: Matrix, outputStep: [Double], learningRate: Double, solver: PseudoInverseSolver,
        damping: Double, cutoff: Double
    ) throws(LinearAlgebraError) -> [Double] {
        let delta: [Double]
        switch solver {
        case .damped:
            let svd = try jacobian.svd()
            let smax = svd.singularValues.first ?? 0
            let lambda = damping * smax * smax
            delta = try svd.filteredSolve(outputStep) { s, _ in s / (s * s + lambda) }
        case .svd:
            delta = try jacobian.pseudoInverseSolve(outputStep, cutoff: cutoff)
        }
        return delta.map { learningRate * $0 }
    }

    /// Move θ by Δθ, keeping every parameter inside its safe range (the trainer never
    /// asks the device for an unsafe value; clipping here is the optimiser's projection).
    public static func apply(_ delta: [Double], to theta: [Double], space: ParameterSpace) -> [Double] {
        var out = theta
        for i in out.indices { out[i] = min(max(theta[i] + delta[i], space.lower[i]), space.upper[i]) }
        return out
    }
}

/// Simultaneous-perturbation stochastic approximation (Spall): two measurements per
/// gradient estimate with a Rademacher perturbation of every parameter at once.
public struct SPSA: Sendable, Codable, Equatable {
    /// Step gain a in a_k = a / (k + 1 + A)^α.
    public var a: Double
    /// Perturbation size c in c_k = c / (k + 1)^γ, in multiples of the parameter range.
    public var c: Double
    public var stabilityA: Double = 10
    public var alpha: Double = 0.602
    public var gamma: Double = 0.101

    public init(a: Double, c: Double) {
        self.a = a
        self.c = c
    }

    public func gain(_ k: Int) -> Double { a / pow(Double(k) + 1 + stabilityA, alpha) }
    public func perturbation(_ k: Int) -> Double { c / pow(Double(k) + 1, gamma) }
}
