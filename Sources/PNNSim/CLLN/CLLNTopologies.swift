import Foundation
import PNNCore

extension NetworkTopology {
    /// The most nodes a simulated network may have (a lab board has 16; the benchmark graph
    /// 300). The Kirchhoff solve is dense — an n×n Jacobian factorised per Newton step, cost
    /// ∝ n³ — so this keeps one factorisation near 0.1 s and 8 MB. A 300-node chain already
    /// takes about a minute per learning period in a release build; 10 000 nodes would need
    /// 800 MB per Jacobian and minutes per factorisation.
    public static let maximumNodes = 1_000
    /// The most edges a simulated network may have (ten per node on average at the limit).
    public static let maximumEdges = 10_000

    /// The lab board: a width × height periodic lattice (default 4 × 4: 16 nodes, 32 edges,
    /// each node joined to its right and lower neighbour with wrap-around).
    ///
    /// Layout (row, column), chosen so that every edge matters (Drivers/CLLN/README.md,
    /// "Board layout"): the six held nodes sit on one sublattice of the checkerboard — V1 (0,0),
    /// V2 (0,2), V1' (2,2), V2' (2,0), V+ (1,3), V− (3,1) — so no edge joins two held nodes; the
    /// outputs O+ (1,1) and O− (3,3) are the other two nodes of that sublattice, and the eight
    /// nodes of the other sublattice are internal, four joined to O+ and four to O−. Every edge
    /// therefore has a free end whose voltage the output clamp moves, so every edge changes the
    /// output and receives a learning signal. Each internal node touches exactly one of V1/V1',
    /// one of V2/V2' and one of V+/V−, and the eight internal nodes cover the eight sign
    /// combinations once: O+ and O− are equivalent, so O = V[O+] − V[O−] reaches either sign of
    /// V1 and V2 alike.
    public static func periodicLattice(width: Int = 4, height: Int = 4) -> NetworkTopology {
        precondition(width >= 4 && height >= 4, "the lab lattice needs at least 4 × 4 nodes")
        func id(_ r: Int, _ c: Int) -> Int { ((r + height) % height) * width + (c + width) % width }
        var edges: [Edge] = []
        for r in 0..<height {
            for c in 0..<width {
                edges.append(Edge(a: id(r, c), b: id(r, c + 1)))
                edges.append(Edge(a: id(r, c), b: id(r + 1, c)))
            }
        }
        return NetworkTopology(
            nodeCount: width * height, edges: edges,
            inputNodes: [id(0, 0), id(0, 2), id(2, 2), id(2, 0), id(1, 3), id(3, 1)],
            inputRoles: [.variable(0), .variable(1), .inverted(0), .inverted(1), .positiveRail, .negativeRail],
            outputs: [Output(plus: id(1, 1), minus: id(3, 3))])
    }

    /// The 2+1-edge network of seed Fig. 2: output node O (0) joined to V1 (1) and V+ (2) by
    /// the two learning edges G1, G2 and to V− (3) by a fixed resistor. Single-ended output.
    public static var twoPlusOne: NetworkTopology {
        NetworkTopology(
            nodeCount: 4, edges: [Edge(a: 0, b: 1), Edge(a: 0, b: 2), Edge(a: 0, b: 3, trainable: false)],
            inputNodes: [1, 2, 3], inputRoles: [.variable(0), .positiveRail, .negativeRail], outputs: [Output(plus: 0)])
    }

    /// A connected random graph of `nodes` nodes and `edges` edges (a random spanning tree,
    /// then random extra edges), with the lattice's six input roles and one differential
    /// output — for benchmarks of large networks.
    public static func random(nodes: Int, edges: Int, seed: UInt64) -> NetworkTopology {
        precondition(nodes >= 8 && edges >= nodes - 1)
        var rng = SeededRandom(seed: seed)
        var list: [Edge] = []
        var seen = Set<Int>()
        func add(_ a: Int, _ b: Int) -> Bool {
            guard a != b else { return false }
            let key = min(a, b) * nodes + max(a, b)
            guard seen.insert(key).inserted else { return false }
            list.append(Edge(a: a, b: b))
            return true
        }
        for n in 1..<nodes { _ = add(n, Int(rng.next() % UInt64(n))) }
        while list.count < edges { _ = add(Int(rng.next() % UInt64(nodes)), Int(rng.next() % UInt64(nodes))) }
        return NetworkTopology(
            nodeCount: nodes, edges: list, inputNodes: [0, 1, 2, 3, 4, 5],
            inputRoles: [.variable(0), .variable(1), .inverted(0), .inverted(1), .positiveRail, .negativeRail],
            outputs: [Output(plus: nodes - 1, minus: nodes - 2)])
    }

    /// This topology if it can be a network: indices in range, no self-loops, inputs and
    /// outputs distinct, every node touched by an edge, every output reachable from an input.
    /// Checked before anything is allocated, so a hostile file is refused, not attempted.
    public func validated() throws(CLLNError) -> NetworkTopology {
        guard nodeCount >= 2 else { throw .invalidState("a network needs at least 2 nodes (has \(nodeCount))") }
        guard nodeCount <= Self.maximumNodes else {
            throw .tooLarge(what: "nodes", count: nodeCount, limit: Self.maximumNodes)
        }
        guard !edges.isEmpty else { throw .invalidState("a network needs at least one edge") }
        guard edges.count <= Self.maximumEdges else {
            throw .tooLarge(what: "edges", count: edges.count, limit: Self.maximumEdges)
        }
        for (i, e) in edges.enumerated() {
            guard e.a >= 0, e.a < nodeCount, e.b >= 0, e.b < nodeCount else {
                throw .badEdge(index: i, reason: "joins nodes \(e.a)–\(e.b), but the graph has nodes 0…\(nodeCount - 1)")
            }
            if e.a == e.b { throw .badEdge(index: i, reason: "joins node \(e.a) to itself") }
        }
        guard inputNodes.count == inputRoles.count else {
            throw .wrongCount(what: "input roles", expected: inputNodes.count, got: inputRoles.count)
        }
        guard !inputNodes.isEmpty, !outputs.isEmpty else { throw .invalidState("a network needs inputs and outputs") }
        let outputNodes = outputs.flatMap { [$0.plus] + ($0.minus.map { [$0] } ?? []) }
        for n in inputNodes + outputNodes where n < 0 || n >= nodeCount {
            throw .invalidState("input/output node \(n) does not exist (nodes 0…\(nodeCount - 1))")
        }
        guard Set(inputNodes).count == inputNodes.count, Set(outputNodes).isDisjoint(with: inputNodes) else {
            throw .invalidState("input and output nodes must all be different")
        }
        var degree = Array(repeating: 0, count: nodeCount)
        var adjacency = Array(repeating: [Int](), count: nodeCount)
        for e in edges {
            degree[e.a] += 1
            degree[e.b] += 1
            adjacency[e.a].append(e.b)
            adjacency[e.b].append(e.a)
        }
        if let floating = degree.firstIndex(of: 0) { throw .floatingNode(floating) }
        var reached = Array(repeating: false, count: nodeCount)
        var queue = inputNodes
        for n in inputNodes { reached[n] = true }
        while let n = queue.popLast() {
            for m in adjacency[n] where !reached[m] {
                reached[m] = true
                queue.append(m)
            }
        }
        if let lost = outputNodes.first(where: { !reached[$0] }) { throw .noPathToOutputs(output: lost) }
        return self
    }

    /// A graph file: this type's JSON (see `docs/protocol.md` §14 and the README), validated.
    public static func load(json: Data) throws(CLLNError) -> NetworkTopology {
        let topology: NetworkTopology
        do {
            topology = try JSONDecoder().decode(NetworkTopology.self, from: json)
        } catch {
            throw .invalidState("graph file is not a valid network description (\(error))")
        }
        return try topology.validated()
    }
}
