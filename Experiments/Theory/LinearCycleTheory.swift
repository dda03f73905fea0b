import Foundation
import PNNCore
import PNNRuns
import PNNSim
import PNNTraining

/// Seed 002 appendix D on a twin network: learning linearised about the joint solution G*
/// of two single-point tasks, dG/dt = −M_μ (G − G*) + B while task μ is trained, and the
/// periodic orbit of the alternation (eqs. D4–D11) — the cycle span D(τ) and combined
/// error Ē(τ) predicted with no fitted parameter.
///
/// M_μ = −∂f_μ/∂G at G* by central differences, with f_μ the bias-free learning rate of
/// task μ under standard clamping (O_C = O_F + η (L − O_F), the clamp re-derived at every
/// G as the board does every step). The orbit uses the exact solution of the linear ODE,
/// G(t) = e^{−Mt}(G0 − G*) + G* + (∫₀ᵗ e^{−Ms} ds) B (eq. D4), which equals D5 when M is
/// symmetric and stays exact when per-edge A0 spread makes it not.
public struct LinearCycleTheory: Sendable {
    public let state: CLLNState
    public let alpha: ContrastivePoint
    public let beta: ContrastivePoint
    public let eta: Double
    /// The joint solution G* (trainable gates).
    public let solution: [Double]
    public let mAlpha: Matrix
    public let mBeta: Matrix
    /// The bias of the trainable edges, V/s.
    public let bias: [Double]

    public init(state: CLLNState, alpha: ContrastivePoint, beta: ContrastivePoint, eta: Double, guess: [Double]? = nil) throws {
        self.state = state
        self.alpha = alpha
        self.beta = beta
        self.eta = eta
        let trainable = state.topology.trainableEdges
        bias = trainable.map { state.biases[$0] }
        var network = try CLLNNetwork(state: state)
        let g = try Self.jointSolution(&network, alpha, beta, guess: guess ?? trainable.map { state.gates[$0] })
        solution = g
        mAlpha = Self.hessian(&network, at: g, point: alpha, eta: eta)
        mBeta = Self.hessian(&network, at: g, point: beta, eta: eta)
    }

    /// Predicted steady cycle for period τ: span D, combined error Ē, and the gates at the
    /// start of task α (Ḡ0 = G(τ)) and at the switch (G(τ/2)).
    public func prediction(tau: Double) throws -> (span: Double, combinedError: Double, g0: [Double], gHalf: [Double]) {
        let n = solution.count
        let (aA, phiA) = Self.propagator(mAlpha, t: tau / 2)
        let (aB, phiB) = Self.propagator(mBeta, t: tau / 2)
        let eye = Matrix.identity(n)
        let gStar = Matrix(column: solution)
        let b = Matrix(column: bias)
        let bA = (eye - aA) * gStar + phiA * b
        let bB = (eye - aB) * gStar + phiB * b
        let lhs = eye - aB * aA
        let rhs = aB * bA + bB
        let g0 = try lhs.leastSquares(rhs).storage
        let gHalf = (aA * Matrix(column: g0) + bA).storage
        var network = try CLLNNetwork(state: state)
        let e = 0.5 * (Self.error(&network, gHalf, alpha, beta) + Self.error(&network, g0, alpha, beta))
        return (LimitCycleAnalysis.distance(g0, gHalf), e, g0, gHalf)
    }

    // MARK: Pieces

    /// e^{−Mt} and ∫₀ᵗ e^{−Ms} ds, from one exponential of the augmented matrix [[−M, I], [0, 0]]·t.
    public static func propagator(_ m: Matrix, t: Double) -> (Matrix, Matrix) {
        let n = m.rows
        var big = Matrix(rows: 2 * n, cols: 2 * n)
        for r in 0..<n {
            for c in 0..<n { big[r, c] = -m[r, c] * t }
            big[r, n + r] = t
        }
        let e = expm(big)
        var a = Matrix(rows: n, cols: n)
        var phi = Matrix(rows: n, cols: n)
        for r in 0..<n {
            for c in 0..<n {
                a[r, c] = e[r, c]
                phi[r, c] = e[r, n + c]
            }
        }
        return (a, phi)
    }

    /// Matrix exponential by scaling and squaring with a degree-18 Taylor series.
    public static func expm(_ a: Matrix) -> Matrix {
        let n = a.rows
        let norm = (0..<n).map { r in (0..<n).map { abs(a[r, $0]) }.reduce(0, +) }.max() ?? 0
        let squarings = norm > 0.5 ? Int(ceil(log2(norm / 0.5))) : 0
        let scaled = pow(2, -Double(squarings)) * a
        var result = Matrix.identity(n)
        var term = Matrix.identity(n)
        for k in 1...18 {
            term = (1 / Double(k)) * (term * scaled)
            result = result + term
        }
        for _ in 0..<squarings { result = result * result }
        return result
    }

    static func rates(_ net: inout CLLNNetwork, _ g: [Double], _ p: ContrastivePoint, eta: Double) -> [Double] {
        net.setGates(g)
        net.setSources(p.inputs)
        net.setClamp(ClampSetting(mode: .clamped, targets: p.labels, eta: eta))
        let all = net.gateRates(withBias: false)
        return net.state.topology.trainableEdges.map { all[$0] }
    }

    static func hessian(_ net: inout CLLNNetwork, at g: [Double], point: ContrastivePoint, eta: Double) -> Matrix {
        let n = g.count
        var m = Matrix(rows: n, cols: n)
        let h = 1e-4
        for j in 0..<n {
            var up = g
            var down = g
            up[j] += h
            down[j] -= h
            let fu = rates(&net, up, point, eta: eta)
            let fd = rates(&net, down, point, eta: eta)
            for i in 0..<n { m[i, j] = -(fu[i] - fd[i]) / (2 * h) }
        }
        return m
    }

    static func output(_ net: inout CLLNNetwork, _ g: [Double], _ p: ContrastivePoint) -> Double {
        net.setClamp(.free(outputs: p.labels.count))
        net.setGates(g)
        net.setSources(p.inputs)
        return net.freeOutputs()[0]
    }

    static func error(_ net: inout CLLNNetwork, _ g: [Double], _ a: ContrastivePoint, _ b: ContrastivePoint) -> Double {
        let ea = pow(a.labels[0] - output(&net, g, a), 2)
        let eb = pow(b.labels[0] - output(&net, g, b), 2)
        return 0.5 * (ea + eb)
    }

    /// Newton (least-norm steps) on O_α(G) = L_α, O_β(G) = L_β.
    static func jointSolution(_ net: inout CLLNNetwork, _ a: ContrastivePoint, _ b: ContrastivePoint, guess: [Double]) throws
        -> [Double]
    {
        var g = guess
        for _ in 0..<50 {
            let r = [a.labels[0] - output(&net, g, a), b.labels[0] - output(&net, g, b)]
            if abs(r[0]) + abs(r[1]) < 1e-12 { return g }
            var j = Matrix(rows: 2, cols: g.count)
            for k in 0..<g.count {
                var up = g
                up[k] += 1e-5
                j[0, k] = (output(&net, up, a) - output(&net, g, a)) / 1e-5
                j[1, k] = (output(&net, up, b) - output(&net, g, b)) / 1e-5
            }
            let step = try j.leastSquares(Matrix(column: r)).storage
            g = zip(g, step).map { $0 + $1 }
        }
        throw TrainingError.invalidConfig("the two tasks have no joint solution near the starting gates")
    }
}
