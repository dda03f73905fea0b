import Foundation
import PNNCore

/// A 2D spring network's geometry: node positions, bonds (with rest lengths), which
/// degrees of freedom are pinned, and which degrees of freedom are the input and output
/// channels. Degree of freedom `2·n` is node n's x, `2·n + 1` its y.
///
/// Lengths are in the network's length unit, forces in its force unit, stiffness in force
/// per length (all dimensionless to pnnlab).
public struct SpringGraph: Sendable, Codable, Equatable {
    /// One bond between nodes `a` and `b`.
    public struct Bond: Sendable, Codable, Equatable {
        public var a: Int
        public var b: Int
        /// Rest length ℓ₀; nil = the distance between the nodes (the bond is unstressed).
        public var restLength: Double?

        public init(a: Int, b: Int, restLength: Double? = nil) {
            self.a = a
            self.b = b
            self.restLength = restLength
        }

        enum CodingKeys: String, CodingKey {
            case a, b
            case restLength = "rest_length"
        }
    }

    /// One channel: a node and the axis (`x` or `y`) of the degree of freedom it acts on.
    public struct Channel: Sendable, Codable, Equatable {
        public var node: Int
        public var axis: Axis

        public init(node: Int, axis: Axis) {
            self.node = node
            self.axis = axis
        }

        /// Index of the degree of freedom.
        public var dof: Int { 2 * node + (axis == .x ? 0 : 1) }
    }

    /// A Cartesian axis.
    public enum Axis: String, Sendable, Codable, Equatable { case x, y }

    /// Node positions (x, y).
    public var nodes: [[Double]]
    public var bonds: [Bond]
    /// Nodes pinned in both x and y (Dirichlet: zero displacement).
    public var fixed: [Int]
    /// Single pinned degrees of freedom besides the fixed nodes (e.g. a roller).
    public var fixedDofs: [Channel]
    /// Input channels: a force (or an imposed displacement) on each degree of freedom.
    public var inputs: [Channel]
    /// Output channels: the displacement of each degree of freedom.
    public var outputs: [Channel]

    public init(
        nodes: [[Double]], bonds: [Bond], fixed: [Int], fixedDofs: [Channel] = [], inputs: [Channel], outputs: [Channel]
    ) {
        self.nodes = nodes
        self.bonds = bonds
        self.fixed = fixed
        self.fixedDofs = fixedDofs
        self.inputs = inputs
        self.outputs = outputs
    }

    enum CodingKeys: String, CodingKey {
        case nodes, bonds, fixed, inputs, outputs
        case fixedDofs = "fixed_dofs"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodes = try c.decode([[Double]].self, forKey: .nodes)
        bonds = try c.decode([Bond].self, forKey: .bonds)
        fixed = try c.decodeIfPresent([Int].self, forKey: .fixed) ?? []
        fixedDofs = try c.decodeIfPresent([Channel].self, forKey: .fixedDofs) ?? []
        inputs = try c.decode([Channel].self, forKey: .inputs)
        outputs = try c.decode([Channel].self, forKey: .outputs)
    }

    /// Largest network accepted (the stiffness matrix is dense: 2N × 2N doubles).
    public static let maxNodes = 1000
    public static let maxBonds = 10_000
    /// Largest graph file read (checked before anything is decoded, so nothing larger is allocated).
    public static let maxFileBytes = 4 << 20

    /// Degrees of freedom pinned at zero (fixed nodes and single fixed dofs), sorted.
    public var pinnedDofs: [Int] {
        Array(Set(fixed.flatMap { [2 * $0, 2 * $0 + 1] } + fixedDofs.map(\.dof))).sorted()
    }

    /// Current bond lengths L.
    public var lengths: [Double] {
        bonds.map { hypot(nodes[$0.b][0] - nodes[$0.a][0], nodes[$0.b][1] - nodes[$0.a][1]) }
    }

    /// Rest lengths ℓ₀ (the current length where none is given).
    public var restLengths: [Double] { zip(bonds, lengths).map { $0.restLength ?? $1 } }

    /// Checks indices, geometry and sizes, naming the first problem.
    public func validated() throws(SpringError) -> SpringGraph {
        guard !nodes.isEmpty, nodes.count <= Self.maxNodes else {
            throw .invalidGraph("needs 1…\(Self.maxNodes) nodes (got \(nodes.count))")
        }
        guard !bonds.isEmpty, bonds.count <= Self.maxBonds else {
            throw .invalidGraph("needs 1…\(Self.maxBonds) bonds (got \(bonds.count))")
        }
        for (i, p) in nodes.enumerated() where !(p.count == 2 && p.allSatisfy { $0.isFinite && abs($0) <= 1e6 }) {
            throw .invalidGraph("node \(i) must be two finite coordinates within ±1e6 (got \(p))")
        }
        let n = nodes.count
        for (i, b) in bonds.enumerated() {
            guard (0..<n).contains(b.a), (0..<n).contains(b.b), b.a != b.b else {
                throw .invalidGraph("bond \(i) joins nodes \(b.a) and \(b.b); nodes are 0..<\(n) and must differ")
            }
            let length = hypot(nodes[b.b][0] - nodes[b.a][0], nodes[b.b][1] - nodes[b.a][1])
            guard length > 1e-9 else { throw .invalidGraph("bond \(i) has zero length (its nodes coincide)") }
            if let r = b.restLength, !(r.isFinite && r > 0 && r <= 1e6) {
                throw .invalidGraph("bond \(i) has rest length \(r); it must be positive and finite")
            }
        }
        for f in fixed where !(0..<n).contains(f) { throw .invalidGraph("fixed node \(f) is not a node (0..<\(n))") }
        let pinned = Set(pinnedDofs)
        guard !pinned.isEmpty else { throw .invalidGraph("no fixed node: the network could move as a rigid body") }
        for (what, list) in [("fixed dof", fixedDofs), ("input", inputs), ("output", outputs)] {
            for ch in list where !(0..<n).contains(ch.node) {
                throw .invalidGraph("\(what) node \(ch.node) is not a node (0..<\(n))")
            }
        }
        guard !inputs.isEmpty, !outputs.isEmpty else { throw .invalidGraph("needs at least one input and one output") }
        let inputDofs = inputs.map(\.dof)
        let outputDofs = outputs.map(\.dof)
        guard Set(inputDofs).count == inputDofs.count, Set(outputDofs).count == outputDofs.count else {
            throw .invalidGraph("two inputs (or two outputs) act on the same degree of freedom")
        }
        for d in inputDofs + outputDofs where pinned.contains(d) {
            throw .invalidGraph("an input or output acts on pinned degree of freedom \(d) (node \(d / 2))")
        }
        guard Set(inputDofs).isDisjoint(with: outputDofs) else {
            throw .invalidGraph("an input and an output share a degree of freedom")
        }
        return self
    }

    /// Reads a graph file (JSON, the form `SpringGraph` encodes to), refusing files larger
    /// than `maxFileBytes` before reading them.
    public static func load(path: String) throws(SpringError) -> SpringGraph {
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if (attributes[.type] as? FileAttributeType) == .typeDirectory {
                throw SpringError.invalidGraph("\(path) is a directory")
            }
            size = (attributes[.size] as? Int) ?? 0
        } catch let e as SpringError {
            throw e
        } catch {
            throw .invalidGraph("cannot read \(path) (no such file)")
        }
        guard size <= maxFileBytes else {
            throw .invalidGraph("\(path) is \(size) bytes; a spring graph file is at most \(maxFileBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidGraph("cannot read \(path)") }
        return try decode(data)
    }

    /// Decodes and validates graph JSON (at most `maxFileBytes`).
    public static func decode(_ data: Data) throws(SpringError) -> SpringGraph {
        guard data.count <= maxFileBytes else {
            throw .invalidGraph("graph is \(data.count) bytes; at most \(maxFileBytes)")
        }
        do {
            return try JSONDecoder().decode(SpringGraph.self, from: data).validated()
        } catch let e as SpringError {
            throw e
        } catch {
            throw .invalidGraph("not a spring graph (\(error))")
        }
    }

    /// A triangular lattice `width` nodes wide and `height` rows tall (spacing 1; odd rows
    /// shifted by ½), its bottom row fixed, with a fraction `dilution` of the bonds removed
    /// at random (seeded) — a removal is skipped when it would make the network floppy.
    /// Inputs are y forces on distinct nodes, top row first (then the rows below it), spread
    /// evenly; outputs are the x displacements of nodes spread evenly along the row just below
    /// the input rows (then the rows below that).
    public static func triangularLattice(
        width: Int, height: Int, dilution: Double, inputs: Int, outputs: Int, seed: UInt64
    ) throws(SpringError) -> SpringGraph {
        guard (2...31).contains(width), (2...31).contains(height) else {
            throw .invalidSetting("lattice width and height must be 2…31 (got \(width) × \(height))")
        }
        guard dilution.isFinite, dilution >= 0, dilution < 0.5 else {
            throw .invalidSetting("dilution must be in [0, 0.5) (got \(dilution))")
        }
        guard inputs >= 1, inputs <= width * (height - 2) else {
            throw .invalidSetting(
                "\(inputs) inputs do not fit on the \(width * (height - 2)) nodes above the fixed row and the output rows")
        }
        let index = { (i: Int, j: Int) in j * width + i }
        var nodes: [[Double]] = []
        for j in 0..<height {
            for i in 0..<width { nodes.append([Double(i) + (j % 2 == 1 ? 0.5 : 0), Double(j) * 3.0.squareRoot() / 2]) }
        }
        var bonds: [Bond] = []
        for j in 0..<height {
            for i in 0..<width {
                if i + 1 < width { bonds.append(Bond(a: index(i, j), b: index(i + 1, j))) }
                guard j + 1 < height else { continue }
                // Row j+1 is shifted right by ½ when j is even: its neighbours are i and i+1 (even j), i−1 and i (odd j).
                let up = j % 2 == 0 ? [i, i + 1] : [i - 1, i]
                for u in up where (0..<width).contains(u) { bonds.append(Bond(a: index(i, j), b: index(u, j + 1))) }
            }
        }
        let fixed = (0..<width).map { index($0, 0) }
        let top = height - 1
        // Inputs: y forces on distinct nodes, the top row first, then the rows below it,
        // spread evenly along each row (forces on one node's x and y, or on neighbours of a
        // stiff row, would act almost alike).
        var inputChannels: [Channel] = []
        var row = top
        while inputChannels.count < inputs {
            let count = min(inputs - inputChannels.count, width)
            for k in 0..<count {
                let i = count == 1 ? width / 2 : Int((Double(k) * Double(width - 1) / Double(count - 1)).rounded())
                inputChannels.append(Channel(node: index(i, row), axis: .y))
            }
            row -= 1
        }
        let inputRows = top - row
        let candidates = width * max(0, height - 1 - inputRows)
        guard outputs >= 1, outputs <= candidates else {
            throw .invalidSetting("\(outputs) outputs do not fit in the \(candidates) nodes between the fixed and the input rows")
        }
        // Outputs: x displacements spread evenly along the row just below the input rows (then
        // the rows below it). Far apart, each output sits under a different group of inputs, so
        // their responses differ; right below the inputs, every input moves every output
        // (outputs drawn at random near the fixed row barely moved: 50–60 % on Iris).
        var outputChannels: [Channel] = []
        var outputRow = row
        while outputChannels.count < outputs {
            let count = min(outputs - outputChannels.count, width)
            for k in 0..<count {
                let i = count == 1 ? width / 2 : Int((Double(k) * Double(width - 1) / Double(count - 1)).rounded())
                outputChannels.append(Channel(node: index(i, outputRow), axis: .x))
            }
            outputRow -= 1
        }
        var rng = SeededRandom.derived(seed: seed, stream: 0x5_9A1E)
        var graph = SpringGraph(nodes: nodes, bonds: bonds, fixed: fixed, inputs: inputChannels, outputs: outputChannels)
        let target = Int((dilution * Double(bonds.count)).rounded())
        if target > 0 {
            var order = Array(bonds.indices)
            order.shuffle(using: &rng)
            var removed = Set<Int>()
            for b in order where removed.count < target {
                removed.insert(b)
                let trial = SpringGraph(
                    nodes: nodes, bonds: bonds.indices.filter { !removed.contains($0) }.map { bonds[$0] }, fixed: fixed,
                    inputs: inputChannels, outputs: outputChannels)
                if !trial.isRigid() { removed.remove(b) }
            }
            graph.bonds = bonds.indices.filter { !removed.contains($0) }.map { bonds[$0] }
        }
        return try graph.validated()
    }

    /// Whether the reduced stiffness with every bond at unit stiffness is positive definite
    /// (no floppy mode): every pivot of its Cholesky factor above 1e-9 of the largest.
    public func isRigid() -> Bool {
        let network = SpringNetwork(graph: self)
        return network.isPositiveDefinite(stiffness: Array(repeating: 1, count: bonds.count))
    }
}
