import CBLAS
import Foundation
import PNNCore

/// The physics of a CLLN board as a fast, synchronous value type: node voltages of the
/// twin free and clamped networks by Newton's method on Kirchhoff's current law, and the
/// on-board learning rule integrated over a learning interval. Used by the twin, the
/// emulator and the experiments.
///
/// Clamp semantics follow the board: when the host sets the clamp (or changes the
/// sources or programs the gates) the free output O_F is measured and the held output
/// voltages O_F + η (T − O_F) are computed once; they stay fixed while learning runs.
public struct CLLNNetwork: Sendable {
    public private(set) var state: CLLNState
    private let trainable: [Int]
    private let outputNodes: [Int]
    /// Held output values (node → volts) of each network under the present clamp.
    private var heldFree: [Int: Double] = [:]
    private var heldClamped: [Int: Double] = [:]
    /// Warm starts: the last solution of the floating (prediction), free and clamped networks.
    private var predicted: [Double]
    private var free: [Double]
    private var clamped: [Double]
    private var predictedValid = false
    /// The free/clamped solutions match the present gates, sources and clamp (repeated
    /// reads of an unchanged board return identical voltages).
    private var freeValid = false
    private var clampedValid = false
    /// Newton iterations used by the most recent solves (diagnostics, tests).
    public private(set) var lastIterations = 0

    public init(state: CLLNState) throws(CLLNError) {
        self.state = try state.validated()
        trainable = state.topology.trainableEdges
        outputNodes = state.topology.outputs.flatMap { [$0.plus] + ($0.minus.map { [$0] } ?? []) }
        let mid = (state.physics.vPlus + state.physics.vMinus) / 2
        predicted = Array(repeating: mid, count: state.topology.nodeCount)
        free = predicted
        clamped = predicted
        refreshClamp()
    }

    // MARK: Host operations

    /// Gate voltages of the trainable edges, in parameter order.
    public var trainableGates: [Double] { trainable.map { state.gates[$0] } }

    /// Programs the trainable edges' gates (parameter order), clipped to [0, G_max].
    public mutating func setGates(_ g: [Double]) {
        for (i, e) in trainable.enumerated() { state.gates[e] = min(max(g[i], 0), state.physics.gateMax) }
        predictedValid = false
        refreshClamp()
    }

    /// Gates moved by the device itself (as learning moves them): the held clamp voltages
    /// stay where they were set.
    mutating func setGatesRaw(_ g: [Double]) {
        for (i, e) in trainable.enumerated() { state.gates[e] = min(max(g[i], 0), state.physics.gateMax) }
        predictedValid = false
        freeValid = false
        clampedValid = false
    }

    /// Programs the conductances of a linear resistor network (trainable-edge order).
    public mutating func setConductances(_ k: [Double]) {
        var all = state.conductances ?? Array(repeating: state.physics.fixedConductance, count: state.topology.edges.count)
        for (i, e) in trainable.enumerated() { all[e] = k[i] }
        state.conductances = all
        predictedValid = false
        refreshClamp()
    }

    /// Holds `v` on the input nodes (one per input channel).
    public mutating func setSources(_ v: [Double]) {
        state.sources = v
        predictedValid = false
        refreshClamp()
    }

    /// Sets the clamp; the held output voltages are derived from the free output now.
    public mutating func setClamp(_ c: ClampSetting) {
        state.clamp = c
        refreshClamp()
    }

    /// Node voltages of the floating network (outputs not held): the device's prediction.
    /// When the free network holds nothing either (no clamp, or `.clamped`), it is the same
    /// system, so a valid free solution is the answer without a second Newton solve.
    public mutating func solvePredicted() -> [Double] {
        if !predictedValid {
            if freeValid && heldFree.isEmpty {
                predicted = free
                lastIterations = 0
                predictedValid = true
            } else {
                lastIterations = solve(&predicted, held: [:])
                predictedValid = !Task.isCancelled
            }
        }
        return predicted
    }

    /// Node voltages of the free network under the present clamp (outputs held under `.both`).
    /// Under `.free` and `.clamped` it holds nothing: the floating network's solution, if
    /// valid, is reused (issue 11: one Newton solve fewer per learning step).
    public mutating func solveFree() -> [Double] {
        if !freeValid {
            if predictedValid && heldFree.isEmpty {
                free = predicted
                lastIterations = 0
                freeValid = true
            } else {
                lastIterations = solve(&free, held: heldFree)
                freeValid = !Task.isCancelled
            }
        }
        return free
    }

    /// Node voltages of the clamped network under the present clamp (with no clamp, the
    /// floating network's).
    public mutating func solveClamped() -> [Double] {
        if !clampedValid {
            if heldClamped.isEmpty && (freeValid || predictedValid) && heldFree.isEmpty {
                clamped = freeValid ? free : predicted
                lastIterations = 0
                clampedValid = true
            } else {
                lastIterations = solve(&clamped, held: heldClamped)
                clampedValid = !Task.isCancelled
            }
        }
        return clamped
    }

    /// The outputs O of the floating network.
    public mutating func freeOutputs() -> [Double] { state.topology.outputValues(solvePredicted()) }

    private mutating func refreshClamp() {
        freeValid = false
        clampedValid = false
        heldFree = [:]
        heldClamped = [:]
        let c = state.clamp
        guard c.mode != .free else { return }
        let v = solvePredicted()
        let o = state.topology.outputValues(v)
        for (k, out) in state.topology.outputs.enumerated() {
            let delta = c.eta * (c.targets[k] - o[k])
            let share = out.minus == nil ? 1.0 : 0.5
            heldClamped[out.plus] = v[out.plus] + share * delta
            if let m = out.minus { heldClamped[m] = v[m] - share * delta }
            if c.mode == .both {
                heldFree[out.plus] = v[out.plus] - share * delta
                if let m = out.minus { heldFree[m] = v[m] + share * delta }
            }
        }
    }

    // MARK: Learning

    /// The learning rate dG/dt of every edge at the present gates: A0 (ΔV_F² − ΔV_C²) + B
    /// (`withBias: false` drops B).
    public mutating func gateRates(withBias: Bool = true) -> [Double] {
        // Learning moves the gates behind the solutions' backs: none of them is current.
        predictedValid = false
        freeValid = false
        clampedValid = false
        let vf = solveFree()
        let vc = solveClamped()
        return state.topology.edges.indices.map { e in
            guard state.topology.edges[e].trainable else { return 0 }
            let edge = state.topology.edges[e]
            let df = vf[edge.a] - vf[edge.b]
            let dc = vc[edge.a] - vc[edge.b]
            return state.learningRates[e] * (df * df - dc * dc) + (withBias ? state.biases[e] : 0)
        }
    }

    /// Learning switched on for `seconds`: the gate capacitors charge continuously while
    /// both networks follow them. Classical RK4 over substeps small enough that no gate
    /// moves more than 2 mV per substep (at most 100 000); gates clipped to [0, G_max] after
    /// every substep. A cancelled task stops integrating at the next substep.
    public mutating func learn(seconds: Double) {
        guard seconds > 0 else { return }
        let rate0 = gateRates()
        let fastest = rate0.map(abs).max() ?? 0
        // Computed in floating point and bounded before conversion: no rate can trap here.
        let wanted = (seconds * fastest / 2e-3).rounded(.up)
        let substeps = wanted.isFinite ? Int(min(max(wanted, 1), 100_000)) : 100_000
        let h = seconds / Double(substeps)
        let gMax = state.physics.gateMax
        var k1 = rate0
        for s in 0..<substeps {
            // An aborted run (second Ctrl-C / SIGTERM) stops between substeps, not after a period.
            if Task.isCancelled { break }
            if s > 0 { k1 = gateRates() }
            let g0 = state.gates
            func stage(_ k: [Double], _ f: Double) -> [Double] {
                for e in trainable { state.gates[e] = min(max(g0[e] + f * h * k[e], 0), gMax) }
                return gateRates()
            }
            let k2 = stage(k1, 0.5)
            let k3 = stage(k2, 0.5)
            let k4 = stage(k3, 1)
            for e in trainable {
                let step = h / 6 * (k1[e] + 2 * k2[e] + 2 * k3[e] + k4[e])
                state.gates[e] = min(max(g0[e] + step, 0), gMax)
            }
        }
        predictedValid = false
        freeValid = false
        clampedValid = false
    }

    // MARK: Kirchhoff

    /// Conductance of edge `e` at node voltages `v`, siemens.
    public func conductance(edge e: Int, nodeVoltages v: [Double]) -> Double {
        let edge = state.topology.edges[e]
        return conductanceAndSlope(e, va: v[edge.a], vb: v[edge.b]).k
    }

    /// K and dK/dV_a (= dK/dV_b) of edge `e`.
    @inline(__always)
    private func conductanceAndSlope(_ e: Int, va: Double, vb: Double) -> (k: Double, slope: Double) {
        if let k = state.conductances { return (k[e], 0) }
        let p = state.physics
        guard state.topology.edges[e].trainable else { return (p.fixedConductance, 0) }
        let x = state.gates[e] - p.thresholdVoltage - 0.5 * (va + vb)
        let z = x / p.turnOnWidth
        let softplus = z > 40 ? x : (z < -40 ? 0 : p.turnOnWidth * log1p(exp(z)))
        let sigmoid = 1 / (1 + exp(-z))
        return (p.s * softplus + p.offConductance, -0.5 * p.s * sigmoid)
    }

    /// Newton's method on Kirchhoff's current law with input nodes and `held` nodes fixed;
    /// `v` is the warm start and the result. Returns the iterations used. A cancelled task
    /// returns early (its result is not cached).
    private func solve(_ v: inout [Double], held: [Int: Double]) -> Int {
        let topo = state.topology
        let n = topo.nodeCount
        var index = Array(repeating: -1, count: n)
        for (i, node) in topo.inputNodes.enumerated() { v[node] = state.sources[i] }
        for (node, value) in held { v[node] = value }
        var unknowns = 0
        for node in 0..<n where held[node] == nil && !topo.inputNodes.contains(node) {
            index[node] = unknowns
            unknowns += 1
        }
        if unknowns == 0 { return 0 }
        var lowest = Double.infinity
        var highest = -Double.infinity
        for node in 0..<n where index[node] < 0 {
            lowest = min(lowest, v[node])
            highest = max(highest, v[node])
        }
        for node in 0..<n where index[node] >= 0 { v[node] = min(max(v[node], lowest), highest) }
        var jac = [Double](repeating: 0, count: unknowns * unknowns)
        var rhs = [Double](repeating: 0, count: unknowns)
        // Large systems: LAPACK LU whose factors are kept, so once Newton has (nearly)
        // converged the confirming step reuses them (a chord step) instead of a second
        // factorisation of an all but unchanged Jacobian (issue 11's solve speed).
        var lu = unknowns >= DenseSolve.lapackThreshold ? NewtonLU(n: unknowns) : nil
        var previousStep = Double.infinity
        // The conductances change by ~step/turnOnWidth relative (not at all in a linear
        // network): below 1 % of the turn-on width the old factors give the next step to
        // within 1 % of itself — for a converging step of < 10 pV, well under 1e-12 V.
        let chordStep = state.conductances == nil ? 0.01 * state.physics.turnOnWidth : Double.infinity
        for iteration in 1...40 {
            // An aborted run stops here rather than finishing a large solve nobody will use.
            if Task.isCancelled { return iteration }
            let chord = lu?.factored == true && previousStep < chordStep
            if !chord { for i in jac.indices { jac[i] = 0 } }
            for i in rhs.indices { rhs[i] = 0 }
            for e in topo.edges.indices {
                let a = topo.edges[e].a
                let b = topo.edges[e].b
                let (k, slope) = conductanceAndSlope(e, va: v[a], vb: v[b])
                let d = v[a] - v[b]
                let current = k * d
                let ia = index[a]
                let ib = index[b]
                if ia >= 0 { rhs[ia] -= current }
                if ib >= 0 { rhs[ib] += current }
                if chord { continue }
                let dIa = k + d * slope
                let dIb = -k + d * slope
                if ia >= 0 {
                    jac[ia * unknowns + ia] += dIa
                    if ib >= 0 { jac[ia * unknowns + ib] += dIb }
                }
                if ib >= 0 {
                    jac[ib * unknowns + ib] -= dIb
                    if ia >= 0 { jac[ib * unknowns + ia] -= dIa }
                }
            }
            if lu != nil {
                if !chord { guard lu!.factor(&jac) else { return iteration } }
                lu!.solve(&rhs)
            } else {
                guard DenseSolve.solve(n: unknowns, a: &jac, b: &rhs) else { return iteration }
            }
            var largest = 0.0
            for node in 0..<n where index[node] >= 0 {
                let step = min(max(rhs[index[node]], -0.2), 0.2)
                // A passive network's node voltages lie between its held voltages.
                let next = min(max(v[node] + step, lowest), highest)
                largest = max(largest, abs(next - v[node]))
                v[node] = next
            }
            // 10 pV: far below any ADC; nodes joined only by off transistors (1 nS leakage)
            // cannot be resolved more finely in double precision anyway.
            if largest < 1e-11 { return iteration }
            previousStep = largest
        }
        return 40
    }
}

/// The LU factors of a Newton Jacobian (row-major, n × n), kept between Newton steps.
/// LAPACK sees the row-major matrix as its transpose, so it factors Jᵀ in place (no copy)
/// and solves with the transpose flag.
struct NewtonLU {
    let n: Int
    private var factors: [Double] = []
    private var pivots: [Int32]
    private(set) var factored = false

    init(n: Int) {
        self.n = n
        pivots = [Int32](repeating: 0, count: n)
    }

    /// Factors `a` (row-major J; taken over as the factor storage). False when singular.
    mutating func factor(_ a: inout [Double]) -> Bool {
        BLASThreads.configure()
        swap(&factors, &a)
        if a.count != factors.count { a = [Double](repeating: 0, count: factors.count) }
        let info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, Int32(n), Int32(n), &factors, Int32(n), &pivots)
        factored = info == 0
        return factored
    }

    /// Replaces `b` by the solution of J x = b.
    func solve(_ b: inout [Double]) {
        _ = LAPACKE_dgetrs(
            LAPACK_COL_MAJOR, CChar(UInt8(ascii: "T")), Int32(n), 1, factors, Int32(n), pivots, &b, Int32(n))
    }
}
