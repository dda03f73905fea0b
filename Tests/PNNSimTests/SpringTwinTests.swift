import Foundation
import PNNCore
import Testing

@testable import PNNSim

/// The spring-network twin's physics (K = Aᵀ diag(k) A, the reduced Cholesky solve,
/// clamping), its safe ranges and its state file.
@Suite struct SpringTwinTests {
    /// A small noiseless lattice with stiffness window [0.1, 2] and no programming grid.
    static func lattice(_ seed: UInt64 = 3, dilution: Double = 0.15) -> SpringConfig {
        var c = SpringConfig()
        c.width = 5
        c.height = 4
        c.dilution = dilution
        c.inputs = 3
        c.outputs = 2
        c.noise = 0
        c.stiffnessResolution = 0
        c.seed = seed
        return c
    }

    @Test func stiffnessMatrixIsSymmetricPositiveSemidefiniteAndEqualsAtDiagKA() throws {
        let graph = try Self.lattice().resolvedGraph()
        let net = SpringNetwork(graph: graph)
        var rng = SeededRandom(seed: 11)
        let k = graph.bonds.map { _ in 0.1 + 1.9 * rng.uniform() }
        let K = net.stiffnessMatrix(k)
        let a = net.compatibility()
        var dk = Matrix(rows: k.count, cols: k.count)
        for i in k.indices { dk[i, i] = k[i] }
        let reference = Matrix.product(a, transposeA: true, dk * a)
        for i in 0..<K.rows {
            for j in 0..<K.cols {
                #expect(abs(K[i, j] - K[j, i]) <= 1e-15)
                #expect(abs(K[i, j] - reference[i, j]) <= 1e-13)
            }
        }
        for _ in 0..<50 {
            let x = (0..<K.rows).map { _ in rng.normal() }
            let energy = zip(x, K.apply(x)).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(energy >= -1e-12)
        }
        // A free network has exactly three zero modes (two translations, one rotation).
        let t = (0..<K.rows).map { $0 % 2 == 0 ? 1.0 : 0.0 }
        #expect(K.apply(t).map(abs).max()! < 1e-12)
    }

    /// The twin's Cholesky solve against an independent dense one: A, Aᵀ diag(k) A by matrix
    /// products, reduced by hand, solved by Gaussian elimination with partial pivoting.
    @Test func solveMatchesADenseReferenceTo1e12() async throws {
        var config = Self.lattice()
        config.stiffnessMin = 0.1
        let twin = try SpringTwin(config: config)
        let net = twin.network
        var rng = SeededRandom(seed: 5)
        let k = net.graph.bonds.map { _ in 0.1 + 1.9 * rng.uniform() }
        _ = try await twin.setParameters(k)
        let x = Matrix(rows: 4, cols: 3, storage: (0..<12).map { _ in 2 * rng.uniform() - 1 })
        let u = try await twin.solveFree(x)
        let a = net.compatibility()
        var dk = Matrix(rows: k.count, cols: k.count)
        for i in k.indices { dk[i, i] = k[i] }
        let K = Matrix.product(a, transposeA: true, dk * a)
        let free = (0..<net.dofCount).filter { !net.pinned.contains($0) }
        for r in 0..<x.rows {
            var f = Array(repeating: 0.0, count: net.dofCount)
            for (j, ch) in net.graph.inputs.enumerated() { f[ch.dof] = x[r, j] }
            let reduced = free.map { p in free.map { q in K[p, q] } }
            let ref = Self.gaussianElimination(reduced, free.map { f[$0] })
            let scale = ref.map(abs).max()!
            for (i, p) in free.enumerated() { #expect(abs(u[r, p] - ref[i]) <= 1e-12 * scale) }
            for p in net.pinned { #expect(u[r, p] == 0) }
        }
    }

    /// Two springs in series along x, pulled at the end: u₁ = F/k₁, u₂ = F (1/k₁ + 1/k₂).
    @Test func twoSpringsInSeriesMatchTheAnalyticResult() async throws {
        let graph = SpringGraph(
            nodes: [[0, 0], [1, 0], [2, 0]], bonds: [.init(a: 0, b: 1), .init(a: 1, b: 2)], fixed: [0],
            fixedDofs: [.init(node: 1, axis: .y), .init(node: 2, axis: .y)], inputs: [.init(node: 2, axis: .x)],
            outputs: [.init(node: 1, axis: .x)])
        var config = SpringConfig()
        config.graph = graph
        config.noise = 0
        config.stiffnessResolution = 0
        let twin = try SpringTwin(config: config)
        let (k1, k2, force) = (0.5, 1.5, 0.8)
        _ = try await twin.setParameters([k1, k2])
        let out = try await twin.measure(Matrix(rows: 1, cols: 1, storage: [force]))
        #expect(abs(out[0, 0] - force / k1) <= 1e-14)
        try await twin.applyInputs([force])
        let u = try await twin.displacement(.free)
        #expect(abs(u[4] - force * (1 / k1 + 1 / k2)) <= 1e-14)
        let e = try await twin.bondExtensions(.free)
        #expect(abs(e[0] - force / k1) <= 1e-14 && abs(e[1] - force / k2) <= 1e-14)
    }

    @Test func clampedSolveImposesTheNudgedOutputsAndStaysInEquilibrium() async throws {
        let twin = try SpringTwin(config: Self.lattice())
        let net = twin.network
        let inputs = [0.4, -0.7, 0.2]
        try await twin.applyInputs(inputs)
        var f = Array(repeating: 0.0, count: net.dofCount)
        for (j, ch) in net.graph.inputs.enumerated() { f[ch.dof] = inputs[j] }
        let free = try await twin.displacement(.free)
        let uF = net.graph.outputs.map { free[$0.dof] }
        // η = 0 clamps the outputs where they already are: the clamped state is the free one.
        try await twin.setClamp(ClampSetting(mode: .clamped, targets: [0.01, -0.01], eta: 0))
        let same = try await twin.displacement(.clamped)
        for i in free.indices { #expect(abs(same[i] - free[i]) <= 1e-12) }
        // η = 0.5 toward the targets: outputs exactly there, every other free dof balanced.
        let targets = [0.05, -0.03]
        try await twin.setClamp(ClampSetting(mode: .clamped, targets: targets, eta: 0.5))
        let clamped = try await twin.displacement(.clamped)
        for (o, ch) in net.graph.outputs.enumerated() {
            #expect(abs(clamped[ch.dof] - (uF[o] + 0.5 * (targets[o] - uF[o]))) <= 1e-15)
        }
        let k = await twin.readParameters()
        let held = Set(net.pinned + net.graph.outputs.map(\.dof))
        for (d, r) in net.residual(k: k, displacement: clamped, forces: f).enumerated() where !held.contains(d) {
            #expect(abs(r) <= 1e-12)
        }
        // The free copy is untouched by a plain clamp; symmetric nudging moves it the other way.
        #expect(try await twin.displacement(.free) == free)
        try await twin.setClamp(ClampSetting(mode: .both, targets: targets, eta: 0.5))
        let minus = try await twin.displacement(.free)
        for (o, ch) in net.graph.outputs.enumerated() {
            #expect(abs(minus[ch.dof] - (uF[o] - 0.5 * (targets[o] - uF[o]))) <= 1e-15)
        }
    }

    @Test func valuesOutsideTheSafeRangesAreRefusedAndNothingIsApplied() async throws {
        let twin = try SpringTwin(config: Self.lattice())
        let before = await twin.readParameters()
        var bad = before
        bad[0] = 2.5
        await #expect(throws: SpringError.self) { _ = try await twin.uncheckedProgram(bad) }
        bad[0] = .nan
        await #expect(throws: SpringError.self) { _ = try await twin.uncheckedProgram(bad) }
        await #expect(throws: SpringError.self) { _ = try await twin.uncheckedProgram(Array(before.dropLast())) }
        #expect(await twin.readParameters() == before)
        #expect(await twin.violations == 3)
        await #expect(throws: SpringError.self) {
            _ = try await twin.uncheckedMeasure(Matrix(rows: 1, cols: 3, storage: [0, 1.5, 0]))
        }
        await #expect(throws: SpringError.self) { try await twin.uncheckedApplyInputs([0, 0, -1.01]) }
        let top = twin.descriptor.outputs.upper
        await #expect(throws: SpringError.self) {
            try await twin.uncheckedSetClamp(ClampSetting(mode: .clamped, targets: [2 * top, 0], eta: 0.5))
        }
        await #expect(throws: SpringError.self) {
            try await twin.uncheckedSetClamp(ClampSetting(mode: .clamped, targets: [0, 0], eta: 1.5))
        }
        #expect(await twin.violations == 7)
        // The checked entry points refuse before the twin sees the value.
        await #expect(throws: (any Error).self) { _ = try await twin.setParameters(bad) }
        #expect(await twin.violations == 7)
        // On the grid: a programmed value lands on min + n · resolution.
        var gridded = Self.lattice()
        gridded.stiffnessResolution = 0.01
        let g = try SpringTwin(config: gridded)
        var k = await g.readParameters()
        k[0] = 0.123456
        let back = try await g.uncheckedProgram(k)
        #expect(abs(back[0] - 0.12) <= 1e-12)
    }

    @Test func stateRoundTripsThroughJSON() async throws {
        var config = Self.lattice(7)
        config.noise = 1e-3
        let twin = try SpringTwin(config: config)
        var k = await twin.readParameters()
        k[2] = 1.234
        _ = try await twin.setParameters(k)
        _ = try await twin.measure(Matrix(rows: 2, cols: 3, repeating: 0.1))
        let data = try await twin.exportState()
        let restored = try SpringTwin(importing: data)
        #expect(await restored.readParameters() == k)
        #expect(restored.network.graph == twin.network.graph)
        #expect(restored.descriptor == twin.descriptor)
        let x = Matrix(rows: 3, cols: 3, storage: [0.1, -0.2, 0.3, 0.5, 0.5, -0.5, 0, 0, 1])
        #expect(try await restored.measure(x) == (try await twin.measure(x)))
        let text = String(decoding: data, as: UTF8.self)
        #expect(throws: SpringError.self) {
            _ = try SpringTwin(importing: Data(text.replacingOccurrences(of: "pnnlab.spring-state", with: "other").utf8))
        }
        #expect(throws: SpringError.self) { _ = try SpringTwin(importing: Data("[1,2]".utf8)) }
    }

    @Test func generatedLatticesAreSeededRigidAndGraphFilesAreBounded() throws {
        let a = try Self.lattice(9, dilution: 0.3).resolvedGraph()
        let b = try Self.lattice(9, dilution: 0.3).resolvedGraph()
        let full = try Self.lattice(9, dilution: 0).resolvedGraph()
        #expect(a == b)
        #expect(a.bonds.count < full.bonds.count)
        #expect(a.isRigid())
        let encoded = try JSONEncoder().encode(a)
        #expect(try SpringGraph.decode(encoded) == a)
        // A bond to a node that does not exist, an output on a fixed node: refused.
        var broken = a
        broken.bonds.append(.init(a: 0, b: 999))
        #expect(throws: SpringError.self) { _ = try SpringGraph.decode(try JSONEncoder().encode(broken)) }
        var pinnedOutput = a
        pinnedOutput.outputs[0] = .init(node: a.fixed[0], axis: .x)
        #expect(throws: SpringError.self) { _ = try pinnedOutput.validated() }
        // Too large a file is refused from its size, before it is read.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spring-big-\(UUID()).json").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(SpringGraph.maxFileBytes + 1))
        try handle.close()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: SpringError.self) { _ = try SpringGraph.load(path: path) }
    }

    /// The default layout for Iris (15 input lines, 3 outputs): a 12 × 6 lattice, inputs on the
    /// two top rows, outputs spread along the row just below them; on every seed each output
    /// responds to the inputs, and the three responses are independent (rank 3, well conditioned).
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func defaultLayoutSpreadsTheOutputsBelowTheInputs(seed: UInt64) async throws {
        var c = SpringConfig()
        c.inputs = 15
        c.outputs = 3
        c.noise = 0
        c.seed = seed
        let twin = try SpringTwin(config: c)
        let g = twin.network.graph
        #expect(g.nodes.count == 72)
        let row = { (ch: SpringGraph.Channel) in ch.node / c.width }
        let column = { (ch: SpringGraph.Channel) in ch.node % c.width }
        #expect(Set(g.inputs.map(row)) == [5, 4])
        #expect(g.outputs.map(row) == [3, 3, 3])
        #expect(g.outputs.map(column) == [0, 6, 11])
        #expect(g.outputs.allSatisfy { $0.axis == .x })
        // Response map G (outputs × inputs) at the initial stiffnesses, one unit force per input.
        var unit = Matrix(rows: 15, cols: 15)
        for j in 0..<15 { unit[j, j] = 1 }
        let u = try await twin.solveFree(unit)
        let gMap = g.outputs.map { o in (0..<15).map { u[$0, o.dof] } }
        let norms = gMap.map { r in r.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let largest = try #require(norms.max())
        #expect(norms.allSatisfy { $0 > 0.2 * largest })
        // Gram matrix G Gᵀ: its determinant over the product of the diagonal (1 for orthogonal
        // rows, 0 for dependent ones) stays clear of zero.
        let gram = (0..<3).map { a in (0..<3).map { b in zip(gMap[a], gMap[b]).reduce(0) { $0 + $1.0 * $1.1 } } }
        let det =
            gram[0][0] * (gram[1][1] * gram[2][2] - gram[1][2] * gram[2][1])
            - gram[0][1] * (gram[1][0] * gram[2][2] - gram[1][2] * gram[2][0])
            + gram[0][2] * (gram[1][0] * gram[2][1] - gram[1][1] * gram[2][0])
        #expect(det / (gram[0][0] * gram[1][1] * gram[2][2]) > 1e-3)
    }

    /// Dense Gaussian elimination with partial pivoting (the reference solver).
    static func gaussianElimination(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a
        var x = b
        let n = b.count
        for c in 0..<n {
            let p = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
            m.swapAt(c, p)
            x.swapAt(c, p)
            for r in (c + 1)..<n {
                let f = m[r][c] / m[c][c]
                if f == 0 { continue }
                for j in c..<n { m[r][j] -= f * m[c][j] }
                x[r] -= f * x[c]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = x[r]
            for j in (r + 1)..<n { s -= m[r][j] * x[j] }
            x[r] = s / m[r][r]
        }
        return x
    }
}
