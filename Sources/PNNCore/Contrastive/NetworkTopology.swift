/// The wiring of a resistor-like network device (a CLLN board, a resistor-network twin):
/// which nodes the edges join, which nodes are held as inputs and what each input means,
/// and which nodes form the outputs. Reported by `NodeReadout` devices so a host can turn
/// node voltages into edge voltage drops.
public struct NetworkTopology: Sendable, Codable, Equatable, Hashable {
    /// One two-terminal element between nodes `a` and `b`.
    public struct Edge: Sendable, Codable, Equatable, Hashable {
        public var a: Int
        public var b: Int
        /// `false` for a fixed resistor that never learns and is not a device parameter.
        public var trainable: Bool

        public init(a: Int, b: Int, trainable: Bool = true) {
            self.a = a
            self.b = b
            self.trainable = trainable
        }
    }

    /// What an input node carries, so a task can fill the source voltages from its data.
    public enum InputRole: Sendable, Codable, Equatable, Hashable {
        /// Data coordinate `k` (V1 is 0, V2 is 1).
        case variable(Int)
        /// The inverted data coordinate V' = V+ − V_k.
        case inverted(Int)
        /// The constant high rail V+.
        case positiveRail
        /// The constant low rail V−.
        case negativeRail
    }

    /// An output: O = V[plus] − V[minus], or V[plus] alone when `minus` is nil.
    public struct Output: Sendable, Codable, Equatable, Hashable {
        public var plus: Int
        public var minus: Int?

        public init(plus: Int, minus: Int? = nil) {
            self.plus = plus
            self.minus = minus
        }
    }

    public var nodeCount: Int
    public var edges: [Edge]
    /// Held (source) nodes, in input-channel order.
    public var inputNodes: [Int]
    /// Meaning of each input channel, parallel to `inputNodes`.
    public var inputRoles: [InputRole]
    public var outputs: [Output]

    public init(nodeCount: Int, edges: [Edge], inputNodes: [Int], inputRoles: [InputRole], outputs: [Output]) {
        self.nodeCount = nodeCount
        self.edges = edges
        self.inputNodes = inputNodes
        self.inputRoles = inputRoles
        self.outputs = outputs
    }

    /// Indices (into `edges`) of the trainable edges, in parameter order.
    public var trainableEdges: [Int] { edges.indices.filter { edges[$0].trainable } }

    /// Number of data coordinates the inputs expect (largest `variable`/`inverted` index + 1).
    public var dataDimension: Int {
        inputRoles.reduce(0) { acc, role in
            switch role {
            case .variable(let k), .inverted(let k): return max(acc, k + 1)
            case .positiveRail, .negativeRail: return acc
            }
        }
    }

    /// Voltage drop V_a − V_b across every edge for the node voltages `v`.
    public func edgeDrops(_ v: [Double]) -> [Double] {
        edges.map { v[$0.a] - v[$0.b] }
    }

    /// The output values O for node voltages `v`.
    public func outputValues(_ v: [Double]) -> [Double] {
        outputs.map { o in v[o.plus] - (o.minus.map { v[$0] } ?? 0) }
    }

    /// Source voltages for one data point x (V1, V2, ...) with rails `vPlus`, `vMinus`:
    /// variable inputs get x_k, inverted inputs V+ − x_k.
    public func sourceVoltages(for x: [Double], vPlus: Double, vMinus: Double) -> [Double] {
        inputRoles.map { role in
            switch role {
            case .variable(let k): return x[k]
            case .inverted(let k): return vPlus - x[k]
            case .positiveRail: return vPlus
            case .negativeRail: return vMinus
            }
        }
    }
}
