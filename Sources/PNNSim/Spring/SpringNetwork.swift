import CBLAS
import Foundation
import PNNCore

/// Linear elasticity of a `SpringGraph`: the compatibility matrix A (one row per bond,
/// bond extension e = A u, the bond's unit vector n̂ = (r_b − r_a)/|r_b − r_a| at
/// −n̂ on node a's dofs and +n̂ on node b's), the stiffness K = Aᵀ diag(k) A and the
/// static solve K u = f with Dirichlet degrees of freedom, by a Cholesky factorisation
/// of the reduced stiffness (LAPACK `dpotrf`/`dpotrs`).
///
/// Rest lengths ℓ₀ different from the bond lengths L pre-stress the network: linearised
/// about the given positions (tension's geometric stiffness neglected) they add the force
/// f₀ = −Aᵀ diag(k)(L − ℓ₀).
public struct SpringNetwork: Sendable {
    public let graph: SpringGraph
    /// Degrees of freedom (2 per node).
    public let dofCount: Int
    /// Unit vector of every bond.
    public let directions: [(x: Double, y: Double)]
    /// L − ℓ₀ per bond (zero for unstressed bonds).
    public let prestrain: [Double]
    /// Pinned dofs (always at zero), sorted.
    public let pinned: [Int]

    /// The physics of `graph` (which must be validated).
    public init(graph: SpringGraph) {
        self.graph = graph
        dofCount = 2 * graph.nodes.count
        let lengths = graph.lengths
        directions = zip(graph.bonds, lengths).map { b, l in
            ((graph.nodes[b.b][0] - graph.nodes[b.a][0]) / l, (graph.nodes[b.b][1] - graph.nodes[b.a][1]) / l)
        }
        prestrain = zip(lengths, graph.restLengths).map { $0 - $1 }
        pinned = graph.pinnedDofs
    }

    /// The four (dof, coefficient) entries of bond `i`'s row of A.
    @inline(__always) func row(_ i: Int) -> [(Int, Double)] {
        let b = graph.bonds[i]
        let n = directions[i]
        return [(2 * b.a, -n.x), (2 * b.a + 1, -n.y), (2 * b.b, n.x), (2 * b.b + 1, n.y)]
    }

    /// The compatibility matrix A (bonds × 2N), dense.
    public func compatibility() -> Matrix {
        var a = Matrix(rows: graph.bonds.count, cols: dofCount)
        for i in graph.bonds.indices { for (d, v) in row(i) { a[i, d] = v } }
        return a
    }

    /// K = Aᵀ diag(k) A (2N × 2N), assembled bond by bond.
    public func stiffnessMatrix(_ k: [Double]) -> Matrix {
        var m = Matrix(rows: dofCount, cols: dofCount)
        for i in graph.bonds.indices {
            let r = row(i)
            for (p, vp) in r { for (q, vq) in r { m.storage[p * dofCount + q] += k[i] * vp * vq } }
        }
        return m
    }

    /// Bond extensions e = A u for a full displacement vector u.
    public func extensions(_ u: [Double]) -> [Double] {
        graph.bonds.indices.map { i in row(i).reduce(0) { $0 + $1.1 * u[$1.0] } }
    }

    /// The pre-stress force f₀ = −Aᵀ diag(k)(L − ℓ₀) (zero when every bond is at rest).
    public func prestressForce(_ k: [Double]) -> [Double] {
        var f = Array(repeating: 0.0, count: dofCount)
        for i in graph.bonds.indices where prestrain[i] != 0 {
            for (d, v) in row(i) { f[d] -= v * k[i] * prestrain[i] }
        }
        return f
    }

    /// Whether the stiffness reduced to the unpinned dofs is positive definite (no floppy
    /// mode): every Cholesky pivot above 1e-9 of the largest.
    public func isPositiveDefinite(stiffness k: [Double]) -> Bool {
        (try? factor(k, prescribed: [])) != nil
    }

    /// A factorised reduced stiffness: the free dofs and their Cholesky factor, ready for
    /// any number of right-hand sides.
    public struct Factor: Sendable {
        /// Degrees of freedom solved for (not pinned, not prescribed), ascending.
        public let free: [Int]
        /// Prescribed dofs in the caller's order.
        public let prescribed: [Int]
        let stiffness: Matrix
        let cholesky: [Double]
    }

    /// Factorises K restricted to the dofs that are neither pinned nor `prescribed`.
    public func factor(_ k: [Double], prescribed: [Int]) throws(SpringError) -> Factor {
        let held = Set(pinned).union(prescribed)
        let free = (0..<dofCount).filter { !held.contains($0) }
        let full = stiffnessMatrix(k)
        let n = free.count
        var l = Array(repeating: 0.0, count: n * n)
        for (r, p) in free.enumerated() { for (c, q) in free.enumerated() { l[r * n + c] = full[p, q] } }
        if n > 0 {
            BLASThreads.configure()
            let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), &l, Int32(n))
            if info != 0 {
                throw .floppy("the reduced stiffness is not positive definite (dpotrf info \(info)): a floppy mode")
            }
            let pivots = (0..<n).map { l[$0 * n + $0] * l[$0 * n + $0] }
            if let lo = pivots.min(), let hi = pivots.max(), lo <= 1e-9 * hi {
                throw .floppy("the reduced stiffness is singular to 1e-9 (pivots \(lo) … \(hi)): a floppy mode")
            }
        }
        return Factor(free: free, prescribed: prescribed, stiffness: full, cholesky: l)
    }

    /// Displacements (cases × 2N) for the forces `f` (cases × 2N, added to the pre-stress
    /// force on the free dofs) with `values` (cases × prescribed count) imposed on the
    /// factor's prescribed dofs and zero on the pinned ones.
    public func solve(_ factor: Factor, k: [Double], forces f: Matrix, prescribedValues values: Matrix) -> Matrix {
        let cases = f.rows
        let n = factor.free.count
        let f0 = prestressForce(k)
        // RHS (n × cases, row-major): f_f + f0_f − K_fp u_p.
        var rhs = Array(repeating: 0.0, count: n * cases)
        for (r, p) in factor.free.enumerated() {
            for c in 0..<cases {
                var v = f[c, p] + f0[p]
                for (j, q) in factor.prescribed.enumerated() { v -= factor.stiffness[p, q] * values[c, j] }
                rhs[r * cases + c] = v
            }
        }
        if n > 0 && cases > 0 {
            var l = factor.cholesky
            _ = LAPACKE_dpotrs(
                LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), Int32(cases), &l, Int32(n), &rhs, Int32(cases))
        }
        var u = Matrix(rows: cases, cols: dofCount)
        for c in 0..<cases {
            for (r, p) in factor.free.enumerated() { u[c, p] = rhs[r * cases + c] }
            for (j, q) in factor.prescribed.enumerated() { u[c, q] = values[c, j] }
        }
        return u
    }

    /// Net force K u − f₀ − f on every dof for one case (zero on free dofs at equilibrium;
    /// the reaction on held dofs).
    public func residual(k: [Double], displacement u: [Double], forces f: [Double]) -> [Double] {
        let ku = stiffnessMatrix(k).apply(u)
        let f0 = prestressForce(k)
        return (0..<dofCount).map { ku[$0] - f0[$0] - f[$0] }
    }
}

/// Why the spring twin refused a setting, a value, a graph or a state file.
public enum SpringError: Error, Equatable, CustomStringConvertible {
    /// A setting outside what the network can be built with.
    case invalidSetting(String)
    /// A graph (generated or read) that cannot be used.
    case invalidGraph(String)
    /// The network has a zero-energy mode: some node or cluster is not held.
    case floppy(String)
    /// A list of the wrong length (stiffnesses, inputs, clamp targets).
    case wrongCount(what: String, expected: Int, got: Int)
    /// A stiffness, force, displacement or clamp value outside its safe range, or not a number.
    case outOfRange(what: String, value: Double, lower: Double, upper: Double)
    /// An exported state that cannot be read or does not describe this network.
    case badState(String)

    public var description: String {
        switch self {
        case .invalidSetting(let why): "spring twin: \(why)"
        case .invalidGraph(let why): "spring graph: \(why)"
        case .floppy(let why): "spring network: \(why)"
        case .wrongCount(let what, let expected, let got): "spring twin: \(got) \(what), expected \(expected)"
        case .outOfRange(let what, let value, let lower, let upper):
            "spring twin: \(what) = \(value) is outside its safe range [\(lower), \(upper)]; nothing was applied"
        case .badState(let why): "spring state: \(why)"
        }
    }
}
