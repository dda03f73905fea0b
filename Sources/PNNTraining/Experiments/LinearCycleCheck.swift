import Foundation
import PNNCore
import PNNSim

/// An independent implementation of the seed-002 appendix-D prediction for two alternating
/// single-point tasks, used to cross-check the simulated cycles. Instead of the
/// pseudo-inverse form (D9) it integrates the linearised flow dG/dt = −M (G − G*) + B exactly
/// with the augmented matrix exponential exp([[−M, I], [0, 0]] t) = [[e^{−Mt}, ∫e^{−Ms}ds], [0, I]],
/// which is the same solution without a rank cutoff.
public struct LinearCycleCheck: Sendable {
    /// Joint solution G* of the two tasks (trainable gates), V.
    public let joint: [Double]
    /// M_α and M_β = −∂f_μ/∂G at G*, 1/s (row-major n×n).
    public let mAlpha: Matrix
    public let mBeta: Matrix
    let bias: [Double]
    let network: CLLNNetwork
    let alpha: ContrastivePoint
    let beta: ContrastivePoint

    /// Solve for G* by Newton on the outputs and differentiate the learning rates there.
    public init(state: CLLNState, alpha: ContrastivePoint, beta: ContrastivePoint, eta: Double) throws {
        var net: CLLNNetwork
        do { net = try CLLNNetwork(state: state) } catch { throw ExperimentError.device(error.description) }
        let trainable = state.topology.trainableEdges
        guard trainable.count == 2 else {
            throw ExperimentError.badParameter("the cycle check needs exactly 2 trainable edges, got \(trainable.count)")
        }
        self.alpha = alpha
        self.beta = beta
        self.bias = trainable.map { state.biases[$0] }
        var g = net.trainableGates
        for _ in 0..<50 {
            let r = Self.residual(&net, g, alpha, beta)
            if abs(r[0]) + abs(r[1]) < 1e-12 { break }
            var j = Matrix(rows: 2, cols: 2)
            for k in 0..<2 {
                var gp = g
                var gm = g
                gp[k] += 1e-5
                gm[k] -= 1e-5
                let rp = Self.residual(&net, gp, alpha, beta)
                let rm = Self.residual(&net, gm, alpha, beta)
                for i in 0..<2 { j[i, k] = (rp[i] - rm[i]) / 2e-5 }
            }
            let step = Self.solve2(j, r)
            g = zip(g, step).map { $0 - $1 }
        }
        self.joint = g
        net.setGates(g)
        self.network = net
        self.mAlpha = Self.hessian(&net, at: g, point: alpha, eta: eta, trainable: trainable)
        self.mBeta = Self.hessian(&net, at: g, point: beta, eta: eta, trainable: trainable)
    }

    static func residual(_ net: inout CLLNNetwork, _ g: [Double], _ a: ContrastivePoint, _ b: ContrastivePoint) -> [Double] {
        net.setGates(g)
        net.setSources(a.inputs)
        let oa = net.freeOutputs()[0] - a.labels[0]
        net.setSources(b.inputs)
        return [oa, net.freeOutputs()[0] - b.labels[0]]
    }

    static func solve2(_ m: Matrix, _ r: [Double]) -> [Double] {
        let det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
        guard abs(det) > 1e-300 else { return [0, 0] }
        return [(m[1, 1] * r[0] - m[0, 1] * r[1]) / det, (m[0, 0] * r[1] - m[1, 0] * r[0]) / det]
    }

    /// Learning rate of each trainable edge without bias, A0 (ΔV_F² − ΔV_C²), clamp re-derived at G.
    static func rates(_ net: inout CLLNNetwork, _ g: [Double], _ p: ContrastivePoint, _ eta: Double, _ trainable: [Int])
        -> [Double]
    {
        net.setGates(g)
        net.setSources(p.inputs)
        net.setClamp(ClampSetting(mode: .clamped, targets: p.labels, eta: eta))
        let top = net.state.topology
        let free = top.edgeDrops(net.solveFree())
        let clamped = top.edgeDrops(net.solveClamped())
        net.setClamp(.free(outputs: p.labels.count))
        return trainable.map { net.state.learningRates[$0] * (free[$0] * free[$0] - clamped[$0] * clamped[$0]) }
    }

    static func hessian(_ net: inout CLLNNetwork, at g: [Double], point: ContrastivePoint, eta: Double, trainable: [Int])
        -> Matrix
    {
        let n = g.count
        var m = Matrix(rows: n, cols: n)
        let h = 1e-4
        for k in 0..<n {
            var gp = g
            var gm = g
            gp[k] += h
            gm[k] -= h
            let fp = rates(&net, gp, point, eta, trainable)
            let fm = rates(&net, gm, point, eta, trainable)
            for i in 0..<n { m[i, k] = -(fp[i] - fm[i]) / (2 * h) }
        }
        return m
    }

    /// e^{−M t} and ∫₀ᵗ e^{−M s} ds via one exponential of the augmented 2n×2n matrix.
    static func flow(_ m: Matrix, _ t: Double) -> (a: Matrix, phi: Matrix) {
        let n = m.rows
        var aug = Matrix(rows: 2 * n, cols: 2 * n)
        for i in 0..<n {
            for j in 0..<n { aug[i, j] = -m[i, j] * t }
            aug[i, n + i] = t
        }
        let e = expm(aug)
        var a = Matrix(rows: n, cols: n)
        var phi = Matrix(rows: n, cols: n)
        for i in 0..<n {
            for j in 0..<n {
                a[i, j] = e[i, j]
                phi[i, j] = e[i, n + j]
            }
        }
        return (a, phi)
    }

    /// Matrix exponential by scaling and squaring with a 24-term Taylor series.
    static func expm(_ x: Matrix) -> Matrix {
        let n = x.rows
        let norm = x.storage.map(abs).max() ?? 0
        let squarings = max(0, Int(ceil(log2(max(norm * Double(n), 1e-300)))) + 1)
        let scale = pow(2, -Double(squarings))
        let ym = scale * x
        var result = Matrix.identity(n)
        var term = Matrix.identity(n)
        for k in 1...24 {
            term = (1 / Double(k)) * (term * ym)
            result = result + term
        }
        for _ in 0..<squarings { result = result * result }
        return result
    }

    /// Steady cycle for period τ: Ḡ0 (start of α), G(τ/2), span D and combined error Ē.
    public func prediction(tau: Double) -> (span: Double, combinedError: Double, g0: [Double], gHalf: [Double]) {
        let fa = Self.flow(mAlpha, tau / 2)
        let fb = Self.flow(mBeta, tau / 2)
        let drivA = mAlpha.apply(joint).enumerated().map { $0.element + bias[$0.offset] }
        let drivB = mBeta.apply(joint).enumerated().map { $0.element + bias[$0.offset] }
        let bA = fa.phi.apply(drivA)
        let bB = fb.phi.apply(drivB)
        let ab = fb.a * fa.a
        let lhs = Matrix.identity(2) - ab
        let rhs = zip(fb.a.apply(bA), bB).map { $0 + $1 }
        let g0 = Self.solve2(lhs, rhs)
        let gHalf = zip(fa.a.apply(g0), bA).map { $0 + $1 }
        var net = network
        let eHalf = error(&net, gHalf)
        let eFull = error(&net, g0)
        return (CycleSummary.distance(g0, gHalf), 0.5 * (eHalf + eFull), g0, gHalf)
    }

    func error(_ net: inout CLLNNetwork, _ g: [Double]) -> Double {
        let r = Self.residual(&net, g, alpha, beta)
        return 0.5 * (r[0] * r[0] + r[1] * r[1])
    }
}
