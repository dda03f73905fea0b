import Foundation
import PNNCore
import PNNSim
import Testing

@testable import PNNRuns
@testable import PNNTraining

/// A unit split over several crossbar arrays (`TiledSubstrate`, `TiledModel`): the composite
/// measures and differentiates like the whole matrix would.
@Suite("Tiled units")
struct TilingTests {
    /// digits (65 input lines with the bias line) into 32 hidden outputs, then 10.
    func plan(_ tiling: Tiling?, layers: [Int] = [32, 10], epochs: Int = 2) -> DeepPlan {
        var config = TrainerConfig()
        config.epochs = epochs
        config.subset = 240
        var p = DeepPlan(device: "sim:crossbar", task: .digits, method: .pat, seed: 5, layers: layers, trainer: config)
        p.tiling = tiling
        return p
    }

    /// The whole unit's crossbar parameters from the tiles' (crossbar order: (i·outputs + j)·2 + ±).
    func untiled(_ theta: [Double], layout: TileLayout) -> [Double] {
        let outputs = layout.outputCount
        var out = [Double](repeating: .nan, count: 2 * layout.inputCount * outputs)
        var offset = 0
        for k in 0..<layout.tileCount {
            let (rows, cols) = layout.tile(k)
            for (ii, i) in rows.enumerated() {
                for (jj, j) in cols.enumerated() {
                    for s in 0..<2 { out[(i * outputs + j) * 2 + s] = theta[offset + (ii * cols.count + jj) * 2 + s] }
                }
            }
            offset += 2 * rows.count * cols.count
        }
        return out
    }

    func randomTheta(_ space: ParameterSpace, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<space.count).map { space.lower[$0] + (space.upper[$0] - space.lower[$0]) * rng.uniform() }
    }

    func randomInputs(rows: Int, cols: Int, range: ChannelSpace, scale: Double, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        let mid = 0.5 * (range.lower + range.upper), half = 0.5 * (range.upper - range.lower)
        return Matrix(
            rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in mid + scale * half * (2 * rng.uniform() - 1) })
    }

    @Test func blocksAreContiguousEvenAndCoverTheUnit() {
        #expect(Tiling.blocks(65, most: 40) == [0..<33, 33..<65])
        #expect(Tiling.blocks(32, most: 16) == [0..<16, 16..<32])
        #expect(Tiling.blocks(10, most: 3) == [0..<3, 3..<6, 6..<8, 8..<10])
        #expect(Tiling.blocks(10, most: 10) == [0..<10])
        #expect(Tiling.blocks(10, most: nil) == [0..<10])
        let l = Tiling(maxOutputs: 16, maxRows: 40).layout(inputs: 65, outputs: 32)
        #expect(l.tileCount == 4)
        #expect(l.tile(1) == (0..<33, 16..<32))
        #expect(l.tile(3).rows.contains(64), "the bias line (the last) is in the last row block only")
        #expect(!l.tile(0).rows.contains(64))
    }

    @Test func theTiledUnitOnIdealTwinsMeasuresTheWholeMatrixModel() async throws {
        for tiling in [Tiling(maxOutputs: 16), Tiling(maxRows: 40), Tiling(maxOutputs: 12, maxRows: 30)] {
            let opened = try await plan(tiling).open(twinOptionWords: ["--ideal"])
            let unit = try #require(opened.units[0] as? TiledSubstrate)
            let model = try #require(opened.models[0] as? TiledModel)
            let layout = unit.layout
            #expect(layout.tileCount == tiling.layout(inputs: 65, outputs: 32).tileCount)
            #expect(unit.descriptor.inputs.count == 65 && unit.descriptor.outputs.count == 32)
            #expect(Set(unit.tiles.map(\.descriptor.identity.serial)).count == layout.tileCount, "a twin per tile")
            let theta = randomTheta(unit.descriptor.parameters, seed: 11)
            let whole = CrossbarModel(rows: 65, outputs: 32)
            let x = randomInputs(rows: 20, cols: 65, range: unit.descriptor.inputs, scale: 0.2, seed: 12)
            let expected = whole.forward(theta: untiled(theta, layout: layout), inputs: x)
            let modelled = model.forward(theta: theta, inputs: x)
            let scale = expected.storage.map(abs).max() ?? 1
            #expect(zip(modelled.storage, expected.storage).allSatisfy { abs($0 - $1) <= 1e-12 * scale })
            _ = try await unit.setParameters(theta)
            let measured = try await unit.measure(x)
            let worst = zip(measured.storage, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-12 * scale, "\(tiling): measured differs from the whole matrix by \(worst)")
        }
    }

    @Test func theTiledModelsVJPMatchesFiniteDifferences() throws {
        let layout = Tiling(maxOutputs: 3, maxRows: 4).layout(inputs: 7, outputs: 5)
        #expect(layout.tileCount == 4)
        let tiles: [any SubstrateModel] = (0..<layout.tileCount).map { k in
            CrossbarModel(rows: layout.tile(k).rows.count, outputs: layout.tile(k).cols.count)
        }
        let model = try TiledModel(layout: layout, tiles: tiles)
        var rng = SeededRandom(seed: 3)
        let theta = (0..<model.parameterCount).map { _ in rng.uniform() * 10 }
        let x = Matrix(rows: 4, cols: 7, storage: (0..<28).map { _ in rng.uniform() - 0.5 })
        let v = Matrix(rows: 4, cols: 5, storage: (0..<20).map { _ in rng.uniform() - 0.5 })
        func loss(_ t: [Double], _ xs: Matrix) -> Double {
            zip(model.forward(theta: t, inputs: xs).storage, v.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let (gTheta, gx) = model.vjp(theta: theta, inputs: x, cotangent: v)
        let h = 1e-5
        for i in theta.indices {
            var p = theta, m = theta
            p[i] += h
            m[i] -= h
            #expect(abs((loss(p, x) - loss(m, x)) / (2 * h) - gTheta[i]) < 1e-7, "∂θ[\(i)]")
        }
        for i in x.storage.indices {
            var p = x, m = x
            p.storage[i] += h
            m.storage[i] -= h
            #expect(abs((loss(theta, p) - loss(theta, m)) / (2 * h) - gx.storage[i]) < 1e-6, "∂x[\(i)]")
        }
    }

    /// Streamed probes with parameter changes land on the right tile and give what
    /// programming those values and measuring gives.
    @Test func probesSplitOverTheTilesLikeProgrammingWould() async throws {
        let opened = try await plan(Tiling(maxOutputs: 16, maxRows: 40)).open(twinOptionWords: ["--ideal"])
        let unit = try #require(opened.units[0] as? TiledSubstrate)
        let space = unit.descriptor.parameters
        let theta = randomTheta(space, seed: 21)
        _ = try await unit.setParameters(theta)
        let x = randomInputs(rows: 6, cols: 65, range: unit.descriptor.inputs, scale: 0.2, seed: 22)
        let picks = [3, unit.offsets[1] + 5, unit.offsets[3] + 7]
        let probes = picks.enumerated().map { n, i in
            Probe(id: n, changes: [ParameterChange(index: i, value: space.lower[i])], inputs: x)
        }
        var got: [Int: Matrix] = [:]
        for try await r in try unit.stream(probes) {
            got[r.id] = r.outputs
            #expect(r.measurementCount == 6 * unit.tiles.count, "every array applies the vectors")
        }
        #expect(got.count == probes.count)
        for (n, i) in picks.enumerated() {
            var changed = theta
            changed[i] = space.lower[i]
            _ = try await unit.setParameters(changed)
            let want = try await unit.measure(x)
            let diff = zip(try #require(got[n]).storage, want.storage).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff < 1e-9, "probe \(n) changing θ[\(i)]")
        }
        #expect(try await unit.readParameters().count == space.count)
    }

    @Test func everyTileRefusesValuesOutsideItsOwnRange() async throws {
        let opened = try await plan(Tiling(maxOutputs: 16)).open()
        let unit = try #require(opened.units[0] as? TiledSubstrate)
        var theta = randomTheta(unit.descriptor.parameters, seed: 31)
        let i = unit.offsets[1] + 2
        theta[i] = unit.tiles[1].descriptor.parameters.upper[2] * 2
        await #expect(throws: SafetyViolation.self) { _ = try await unit.setParameters(theta) }
        // The tile's own checked entry point refuses too, whatever the composite's descriptor says.
        await #expect(throws: SafetyViolation.self) {
            _ = try await unit.uncheckedProgram(theta)
        }
        var x = Matrix(rows: 1, cols: 65, repeating: 0)
        x[0, 40] = unit.descriptor.inputs.upper * 3
        await #expect(throws: SafetyViolation.self) { _ = try await unit.uncheckedMeasure(x) }
    }

    /// A cascade with its hidden unit tiled trains with PAT on noisy twins and learns.
    @Test func aTiledCascadeTrainsWithPAT() async throws {
        let p = plan(Tiling(maxOutputs: 16), epochs: 3)
        let opened = try await p.open()
        #expect(opened.devices.count == 3, "two arrays for unit 1, one for unit 2")
        #expect(opened.twins?.count == 3)
        let t = try DeepTrainer(
            units: opened.units, models: opened.models, widths: p.layers, method: .pat, config: p.trainer,
            task: opened.task, seed: p.seed)
        var state = try await t.initialState()
        while !t.isFinished(state) { _ = try await t.step(&state) }
        #expect((state.lastTestAccuracy ?? 0) > 0.5, "test accuracy \(state.lastTestAccuracy ?? 0)")
        #expect(state.theta[0].count == 2 * 65 * 32)
    }

    /// A resumed run rebuilds the same arrays from the twins the plan recorded, one per tile.
    @Test func recordedTwinsRebuildTheSameTiles() async throws {
        var p = plan(Tiling(maxOutputs: 16, maxRows: 40))
        let first = try await p.open()
        p.units = first.twins
        #expect(p.units?.count == 5, "four tiles for unit 1, one array for unit 2")
        let again = try await p.open()
        #expect(again.units.map(\.descriptor) == first.units.map(\.descriptor))
        p.units?.removeLast()
        await #expect(throws: RunError.self) { _ = try await p.open() }
    }

    @Test func aConfigFileTilingTableIsCheckedLikeTheFlags() throws {
        let file = try ConfigFile.parse("[tiling]\nmax_outputs = 16\nmax_rows = 40\n", file: "run.toml")
        #expect(file.tiling == Tiling(maxOutputs: 16, maxRows: 40))
        #expect(throws: ConfigError.self) { try ConfigFile.parse("[tiling]\nmax_output = 16\n", file: "run.toml") }
    }
}
