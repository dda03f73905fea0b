import Foundation
import PNNCore

/// `sim:spring`: a 2D linear spring network (seed 000's mechanical learner) behind the
/// `Substrate` protocol, with the `Clampable` capability. θ = bond stiffnesses (force per
/// length, within a declared window, set on a declared grid), inputs = forces (or imposed
/// displacements) on the input dofs, outputs = displacements of the output dofs with
/// Gaussian read noise (seeded).
///
/// The map from inputs to outputs is linear (u = K(k)⁻¹ f), so with a bias line the
/// network is an affine map of its inputs — a linear classifier whose weights are a
/// nonlinear function of the stiffnesses.
///
/// Clamped state (coupled learning, Stern et al. PRX 11, 021045; `ElementStrainReadout`): the output dofs are
/// imposed at u_F + η (T − u_F) (`ClampMode.both`: the free copy at u_F − η (T − u_F));
/// `bondExtensions(_:)` reads each bond's extension in either state.
///
/// Device-side defence: every stiffness, input and clamp value is re-checked; a refused
/// value throws, counts in `violations`, and nothing of it is applied.
public actor SpringTwin: Substrate, Clampable, ElementStrainReadout {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let config: SpringConfig
    public nonisolated let network: SpringNetwork
    private nonisolated let executor = ComputeExecutor(label: "pnnlab.spring-twin")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var stiffness: [Double]
    private var rng: SeededRandom
    private var heldInputs: [Double]
    private var clamp: ClampSetting
    /// Output reads taken so far (one per input vector per repeat).
    public private(set) var reads = 0
    /// Values refused by the device-side checks.
    public private(set) var violations = 0
    private var cache: (k: [Double], factor: SpringNetwork.Factor)?

    /// A network with stiffnesses drawn uniformly from the middle half of the window (seeded).
    public init(config: SpringConfig) throws(SpringError) {
        var c = try config.validated()
        c.graph = try c.resolvedGraph()
        var draw = SeededRandom.derived(seed: c.seed, stream: 0x5_7122)
        let span = c.stiffnessMax - c.stiffnessMin
        let k = (c.graph?.bonds ?? []).map { _ in
            Self.snap(c.stiffnessMin + span * (0.25 + 0.5 * draw.uniform()), config: c)
        }
        try self.init(config: c, stiffness: k, rng: .derived(seed: c.seed, stream: 0x5_9015E), reads: 0)
    }

    init(config: SpringConfig, stiffness: [Double], rng: SeededRandom, reads: Int) throws(SpringError) {
        let c = try config.validated()
        let graph = try c.resolvedGraph()
        var resolved = c
        resolved.graph = graph
        self.config = resolved
        network = SpringNetwork(graph: graph)
        self.rng = rng
        self.reads = reads
        self.stiffness = stiffness
        heldInputs = Array(repeating: 0, count: graph.inputs.count)
        clamp = .free(outputs: graph.outputs.count)
        try Self.checkStiffness(stiffness, config: resolved, bonds: graph.bonds.count)
        guard network.isPositiveDefinite(stiffness: stiffness) else {
            throw .floppy("the network has a floppy mode at these stiffnesses (a node or cluster is not held)")
        }
        let fullScale = try Self.outputFullScale(network: network, config: resolved)
        descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(
                family: "spring", model: "spring-twin-\(graph.nodes.count)n\(graph.bonds.count)b", serial: "sim-\(c.seed)",
                firmware: "twin-1"),
            parameters: ParameterSpace(
                count: graph.bonds.count, lower: c.stiffnessMin, upper: c.stiffnessMax, resolution: c.stiffnessResolution,
                unit: .dimensionless, naming: .indexed(prefix: "k")),
            inputs: ChannelSpace(
                count: graph.inputs.count, lower: -c.inputLimit, upper: c.inputLimit, resolution: 0, unit: .dimensionless),
            outputs: ChannelSpace(
                count: graph.outputs.count, lower: -fullScale, upper: fullScale, resolution: 0, unit: .dimensionless),
            capabilities: [.clampable], maxBatch: 4096)
    }

    /// Restores a twin from `exportState()` JSON (at most `SpringGraph.maxFileBytes` × 4).
    public init(importing data: Data) throws(SpringError) {
        guard data.count <= 4 * SpringGraph.maxFileBytes else {
            throw .badState("state is \(data.count) bytes; at most \(4 * SpringGraph.maxFileBytes)")
        }
        let doc: SpringStateDocument
        do {
            doc = try JSONDecoder().decode(SpringStateDocument.self, from: data)
        } catch {
            throw .badState("not a spring state document (\(error))")
        }
        guard doc.format == SpringStateDocument.formatName else {
            throw .badState("format '\(doc.format)', expected '\(SpringStateDocument.formatName)'")
        }
        guard doc.version == 1 else { throw .badState("version \(doc.version) is not supported (this pnnlab reads 1)") }
        guard doc.config.graph != nil else { throw .badState("the state has no graph") }
        guard doc.reads >= 0 else { throw .badState("negative read count") }
        try self.init(config: doc.config, stiffness: doc.stiffness, rng: doc.rng, reads: doc.reads)
    }

    /// The network (graph inline), stiffnesses and noise state as JSON, plus the bond unit
    /// vectors and rest lengths for checking the physics outside pnnlab.
    public func exportState() throws(SpringError) -> Data {
        let doc = SpringStateDocument(
            config: config, stiffness: stiffness, rng: rng, reads: reads,
            bondDirections: network.directions.map { [$0.x, $0.y] }, restLengths: network.graph.restLengths)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return try encoder.encode(doc)
        } catch {
            throw .badState("could not encode (\(error))")
        }
    }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) throws(SpringError) -> [Double] {
        do {
            try Self.checkStiffness(targets, config: config, bonds: network.graph.bonds.count)
        } catch {
            violations += 1
            throw error
        }
        // No rigidity check needed: K(k) ≥ k_min · K(1) in the Loewner order, and K(1) was
        // checked positive definite when the twin was built.
        stiffness = targets.map { Self.snap($0, config: config) }
        return stiffness
    }

    public func readParameters() -> [Double] { stiffness }

    public func uncheckedMeasure(_ inputs: Matrix) throws(SpringError) -> Matrix {
        try read(inputs, repeats: 1)
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { try await self.runProbe($0) }
    }

    /// Inputs to zero, clamp released.
    public func enterSafeState() {
        heldInputs = Array(repeating: 0, count: heldInputs.count)
        clamp = .free(outputs: network.graph.outputs.count)
    }

    // MARK: Clampable

    public func uncheckedApplyInputs(_ inputs: [Double]) throws(SpringError) {
        try checkInputs(Matrix(rows: 1, cols: inputs.count, storage: inputs))
        heldInputs = inputs
    }

    public func uncheckedSetClamp(_ setting: ClampSetting) throws(SpringError) {
        let o = descriptor.outputs
        guard setting.targets.count == o.count else {
            violations += 1
            throw .wrongCount(what: "clamp targets", expected: o.count, got: setting.targets.count)
        }
        guard setting.eta.isFinite, abs(setting.eta) <= 1 else {
            violations += 1
            throw .outOfRange(what: "nudge η", value: setting.eta, lower: -1, upper: 1)
        }
        for t in setting.targets where !(t.isFinite && t >= o.lower && t <= o.upper) {
            violations += 1
            throw .outOfRange(what: "clamp target displacement", value: t, lower: o.lower, upper: o.upper)
        }
        clamp = setting
    }

    /// Exact (noise-free) output displacements of the free and the clamped state for the
    /// held inputs and clamp.
    public func outputs(_ side: NetworkSide) throws(SpringError) -> [Double] {
        let u = try displacement(side)
        return network.graph.outputs.map { u[$0.dof] }
    }

    /// Extension e = A u of every bond (parameter order) in the free or clamped state.
    public func bondExtensions(_ side: NetworkSide) throws(SpringError) -> [Double] {
        network.extensions(try displacement(side))
    }

    /// Bond extensions (coupled learning's per-parameter contrast, `ElementStrainReadout`).
    public func elementStrains(_ side: NetworkSide) throws(SpringError) -> [Double] { try bondExtensions(side) }

    /// The full displacement vector (2N) of one state for the held inputs and clamp.
    public func displacement(_ side: NetworkSide) throws(SpringError) -> [Double] {
        let x = Matrix(rows: 1, cols: heldInputs.count, storage: heldInputs)
        let free = try solveFree(x).row(0)
        let outputDofs = network.graph.outputs.map(\.dof)
        let uF = outputDofs.map { free[$0] }
        let sign: Double
        switch (clamp.mode, side) {
        case (.free, _), (.clamped, .free): return free
        case (.clamped, .clamped), (.both, .clamped): sign = 1
        case (.both, .free): sign = -1
        }
        let imposed = zip(uF, clamp.targets).map { $0 + sign * clamp.eta * ($1 - $0) }
        return try solve(x, extraPrescribed: outputDofs, values: imposed).row(0)
    }

    // MARK: Physics

    /// Displacements (rows × 2N) with the outputs free.
    public func solveFree(_ inputs: Matrix) throws(SpringError) -> Matrix {
        try solve(inputs, extraPrescribed: [], values: [])
    }

    private func solve(_ inputs: Matrix, extraPrescribed: [Int], values: [Double]) throws(SpringError) -> Matrix {
        let g = network.graph
        let inputDofs = g.inputs.map(\.dof)
        let displacementInputs = config.inputMode == .displacement
        let prescribed = (displacementInputs ? inputDofs : []) + extraPrescribed
        let factor: SpringNetwork.Factor
        if prescribed.isEmpty, let cache, cache.k == stiffness {
            factor = cache.factor
        } else {
            factor = try network.factor(stiffness, prescribed: prescribed)
            if prescribed.isEmpty { cache = (stiffness, factor) }
        }
        var f = Matrix(rows: inputs.rows, cols: network.dofCount)
        var p = Matrix(rows: inputs.rows, cols: prescribed.count)
        for r in 0..<inputs.rows {
            for (j, d) in inputDofs.enumerated() {
                if displacementInputs { p[r, j] = inputs[r, j] } else { f[r, d] = inputs[r, j] }
            }
            let offset = displacementInputs ? inputDofs.count : 0
            for (j, v) in values.enumerated() { p[r, offset + j] = v }
        }
        return network.solve(factor, k: stiffness, forces: f, prescribedValues: p)
    }

    private func runProbe(_ probe: Probe) throws -> ProbeResult {
        let saved = stiffness
        defer { stiffness = saved }
        var changed = saved
        for c in probe.changes {
            guard changed.indices.contains(c.index) else {
                throw SpringError.wrongCount(what: "stiffness index \(c.index)", expected: changed.count, got: c.index + 1)
            }
            changed[c.index] = c.value
        }
        _ = try uncheckedProgram(changed)
        return ProbeResult(
            id: probe.id, outputs: try read(probe.inputs, repeats: probe.repeats), measurementCount: probe.measurementCount)
    }

    private func read(_ inputs: Matrix, repeats: Int) throws(SpringError) -> Matrix {
        try checkInputs(inputs)
        let u = try solveFree(inputs)
        let dofs = network.graph.outputs.map(\.dof)
        var out = Matrix(rows: inputs.rows, cols: dofs.count)
        reads += inputs.rows * repeats
        for r in 0..<inputs.rows {
            for (c, d) in dofs.enumerated() {
                var noise = 0.0
                if config.noise > 0 {
                    for _ in 0..<repeats { noise += config.noise * rng.normal() }
                    noise /= Double(repeats)
                }
                out[r, c] = u[r, d] + noise
            }
        }
        return out
    }

    private func checkInputs(_ inputs: Matrix) throws(SpringError) {
        guard inputs.cols == network.graph.inputs.count else {
            violations += 1
            throw .wrongCount(what: "input lines", expected: network.graph.inputs.count, got: inputs.cols)
        }
        let what = config.inputMode == .force ? "input force" : "imposed input displacement"
        for v in inputs.storage where !(v.isFinite && abs(v) <= config.inputLimit) {
            violations += 1
            throw .outOfRange(what: what, value: v, lower: -config.inputLimit, upper: config.inputLimit)
        }
    }

    static func checkStiffness(_ k: [Double], config: SpringConfig, bonds: Int) throws(SpringError) {
        guard k.count == bonds else { throw .wrongCount(what: "stiffnesses", expected: bonds, got: k.count) }
        for (i, v) in k.enumerated() where !(v.isFinite && v >= config.stiffnessMin && v <= config.stiffnessMax) {
            throw .outOfRange(what: "stiffness k[\(i)]", value: v, lower: config.stiffnessMin, upper: config.stiffnessMax)
        }
    }

    /// A stiffness on the programming grid (min + n · resolution), kept inside the window.
    static func snap(_ k: Double, config: SpringConfig) -> Double {
        let res = config.stiffnessResolution
        guard res > 0 else { return k }
        let n = ((k - config.stiffnessMin) / res).rounded()
        return min(max(config.stiffnessMin + n * res, config.stiffnessMin), config.stiffnessMax)
    }

    /// Output full scale: the largest output for inputs at their limit (signs chosen to add
    /// up) with every bond at the softest stiffness (the largest displacements the window
    /// allows; a network in the middle half of the window moves several times less), plus
    /// the pre-stress displacement there. Not a strict bound (compliance is not elementwise
    /// monotone in k): the scale the readout gain and clamp targets are referred to.
    static func outputFullScale(network: SpringNetwork, config: SpringConfig) throws(SpringError) -> Double {
        let g = network.graph
        let soft = Array(repeating: config.stiffnessMin, count: g.bonds.count)
        let displacementInputs = config.inputMode == .displacement
        let inputDofs = g.inputs.map(\.dof)
        let factor = try network.factor(soft, prescribed: displacementInputs ? inputDofs : [])
        let cases = inputDofs.count + 1
        var f = Matrix(rows: cases, cols: network.dofCount)
        var p = Matrix(rows: cases, cols: displacementInputs ? inputDofs.count : 0)
        for (j, d) in inputDofs.enumerated() {
            if displacementInputs { p[j, j] = 1 } else { f[j, d] = 1 }
        }
        let u = network.solve(factor, k: soft, forces: f, prescribedValues: p)
        let prestressU = network.solve(
            factor, k: soft, forces: Matrix(rows: 1, cols: network.dofCount), prescribedValues: Matrix(rows: 1, cols: p.cols))
        var scale = 0.0
        for o in g.outputs {
            var s = abs(prestressU[0, o.dof])
            // The last case (no input) holds only the pre-stress response: subtract it from the unit cases.
            for j in 0..<inputDofs.count { s += abs(u[j, o.dof] - u[cases - 1, o.dof]) * config.inputLimit }
            scale = max(scale, s)
        }
        return max(scale, 1e-9)
    }
}

/// The JSON a `sim:spring` twin exports (`pnnlab twin export`): enough to rebuild it exactly
/// (settings with the graph inline, stiffnesses, noise state), plus the bond unit vectors and
/// rest lengths, so K = Aᵀ diag(k) A can be rebuilt outside pnnlab.
public struct SpringStateDocument: Sendable, Codable, Equatable {
    public static let formatName = "pnnlab.spring-state"
    public var format = formatName
    public var version = 1
    public var config: SpringConfig
    /// Bond stiffnesses k (force per length), bond order.
    public var stiffness: [Double]
    public var rng: SeededRandom
    public var reads: Int
    /// Unit vector n̂ of every bond (informational).
    public var bondDirections: [[Double]]
    /// Rest length ℓ₀ of every bond (informational).
    public var restLengths: [Double]

    enum CodingKeys: String, CodingKey {
        case format, version, config, stiffness, rng, reads
        case bondDirections = "bond_directions"
        case restLengths = "rest_lengths"
    }
}
