import PNNCore

/// One unit whose matrix is split over several arrays (`TileLayout`), seen by the trainers
/// as one `Substrate`: its parameters are the tiles' concatenated in tile order, a
/// measurement drives each tile with its row block of the inputs and adds the tiles'
/// outputs into their output blocks (partial sums of row blocks added digitally).
///
/// Nothing reaches a tile except through that tile's own checked entry points
/// (`setParameters`, `measure`, `stream`), so every value is validated against the tile's
/// own safe ranges, besides the composite descriptor's check. The composite's input range
/// is the intersection of the tiles' (every tile of a row block sees the same drive); its
/// output range is the sum over row blocks of the tiles' ranges.
public final class TiledSubstrate: Substrate {
    public let layout: TileLayout
    public let tiles: [any Substrate]
    public let descriptor: SubstrateDescriptor
    /// Where each tile's parameters start (one more entry: the total).
    public let offsets: [Int]

    /// Checks every tile's shape against its block and that the tiles share units and an
    /// input range.
    public init(layout: TileLayout, tiles: [any Substrate]) throws(TrainingError) {
        guard tiles.count == layout.tileCount, let first = tiles.first?.descriptor else {
            throw .shapeMismatch("the tiling needs \(layout.tileCount) devices, got \(tiles.count)")
        }
        var offsets = [0]
        var lower: [Double] = [], upper: [Double] = [], resolution: [Double] = []
        var inLower = -Double.infinity, inUpper = Double.infinity, inResolution = 0.0
        var outLower = [Double](repeating: .infinity, count: layout.rowBlocks.count)
        var outUpper = [Double](repeating: -.infinity, count: layout.rowBlocks.count)
        var outResolution = 0.0
        var capabilities = first.capabilities
        var drifting = false
        for (k, tile) in tiles.enumerated() {
            let d = tile.descriptor
            let t = layout.tile(k)
            guard d.inputs.count == t.rows.count, d.outputs.count == t.cols.count else {
                throw .shapeMismatch(
                    "tile \(k + 1) of the unit needs \(t.rows.count) input lines and \(t.cols.count) outputs; device \(d.identity.summary) has \(d.inputs.count) and \(d.outputs.count)"
                )
            }
            guard d.parameters.unit == first.parameters.unit, d.inputs.unit == first.inputs.unit,
                d.outputs.unit == first.outputs.unit
            else {
                throw .shapeMismatch(
                    "the tiles of one unit must share units: \(d.identity.summary) differs from \(first.identity.summary)")
            }
            offsets.append(offsets[k] + d.parameters.count)
            lower += d.parameters.lower
            upper += d.parameters.upper
            resolution += d.parameters.resolution
            inLower = max(inLower, d.inputs.lower)
            inUpper = min(inUpper, d.inputs.upper)
            inResolution = max(inResolution, d.inputs.resolution)
            let r = k / layout.colBlocks.count
            outLower[r] = min(outLower[r], d.outputs.lower)
            outUpper[r] = max(outUpper[r], d.outputs.upper)
            outResolution = max(outResolution, d.outputs.resolution)
            capabilities.formIntersection(d.capabilities)
            drifting = drifting || d.capabilities.contains(.drifting)
        }
        guard inLower < inUpper else {
            throw .shapeMismatch("the tiles of one unit have no input range in common, so no drive is safe on all of them")
        }
        if drifting { capabilities.insert(.drifting) }
        let serials = tiles.map(\.descriptor.identity.serial).joined(separator: "+")
        let families = Array(Set(tiles.map(\.descriptor.identity.family))).sorted().joined(separator: "+")
        self.layout = layout
        self.tiles = tiles
        self.offsets = offsets
        self.descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(
                family: families, model: "tiled \(layout.rowBlocks.count)×\(layout.colBlocks.count) \(first.identity.model)",
                serial: serials, firmware: first.identity.firmware),
            parameters: ParameterSpace(
                lower: lower, upper: upper, resolution: resolution, unit: first.parameters.unit,
                naming: .indexed(prefix: "θ")),
            inputs: ChannelSpace(
                count: layout.inputCount, lower: inLower, upper: inUpper, resolution: inResolution, unit: first.inputs.unit),
            outputs: ChannelSpace(
                count: layout.outputCount, lower: outLower.reduce(0, +), upper: outUpper.reduce(0, +),
                resolution: outResolution, unit: first.outputs.unit),
            capabilities: capabilities, maxBatch: tiles.map(\.descriptor.maxBatch).min() ?? 1)
    }

    /// Tile k's part of a composite parameter vector.
    func part(_ values: [Double], tile k: Int) -> [Double] { Array(values[offsets[k]..<offsets[k + 1]]) }

    /// Runs `body` on every tile at once (tiles on different machines work in parallel) and
    /// returns the results in tile order.
    func eachTile<T: Sendable>(_ body: @escaping @Sendable (Int, any Substrate) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for (k, tile) in tiles.enumerated() { group.addTask { (k, try await body(k, tile)) } }
            var out = [T?](repeating: nil, count: tiles.count)
            for try await (k, value) in group { out[k] = value }
            return out.compactMap { $0 }
        }
    }

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        let parts = (0..<tiles.count).map { part(targets, tile: $0) }
        return try await eachTile { k, tile in try await tile.setParameters(parts[k]) }.flatMap { $0 }
    }

    public func readParameters() async throws -> [Double] {
        try await eachTile { _, tile in try await tile.readParameters() }.flatMap { $0 }
    }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        let layout = self.layout
        let parts = try await eachTile { k, tile in try await tile.measure(inputs.columns(layout.tile(k).rows)) }
        return combine(parts, rows: inputs.rows)
    }

    /// The unit's outputs from the tiles' outputs (tile order).
    func combine(_ parts: [Matrix], rows: Int) -> Matrix {
        var y = Matrix(rows: rows, cols: layout.outputCount)
        for (k, part) in parts.enumerated() { y.addColumns(part, at: layout.tile(k).cols) }
        return y
    }

    /// Each probe becomes one probe per tile (its row block of the inputs, the parameter
    /// changes that fall in that tile); a probe's result is yielded once every tile has
    /// answered it. Its measurement count is the tiles' together (each array applies the
    /// vectors).
    public func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        var perTile = [[Probe]](repeating: [], count: tiles.count)
        for probe in probes {
            for k in tiles.indices {
                let changes = probe.changes.compactMap { c -> ParameterChange? in
                    (offsets[k]..<offsets[k + 1]).contains(c.index)
                        ? ParameterChange(index: c.index - offsets[k], value: c.value) : nil
                }
                perTile[k].append(
                    Probe(
                        id: probe.id, changes: changes, inputs: probe.inputs.columns(layout.tile(k).rows),
                        repeats: probe.repeats))
            }
        }
        let rowsByID = Dictionary(probes.map { ($0.id, $0.inputs.rows) }, uniquingKeysWith: { a, _ in a })
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let tiles = self.tiles
        let layout = self.layout
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: (Int, ProbeResult).self) { group in
                    let streams = try tiles.enumerated().map { k, tile in (k, try tile.stream(perTile[k])) }
                    let (results, feed) = AsyncThrowingStream<(Int, ProbeResult), any Error>.makeStream()
                    for (k, s) in streams {
                        group.addTask {
                            for try await r in s { feed.yield((k, r)) }
                            return (k, ProbeResult(id: -1, outputs: Matrix(rows: 0, cols: 0), measurementCount: 0))
                        }
                    }
                    group.addTask {
                        var pending: [Int: (sum: Matrix, answered: Set<Int>, count: Int)] = [:]
                        for try await (k, r) in results {
                            guard let rows = rowsByID[r.id], r.outputs.rows == rows,
                                r.outputs.cols == layout.tile(k).cols.count
                            else {
                                throw SubstrateError.malformedReply(
                                    "tile \(k + 1) returned outputs for no probe it was sent")
                            }
                            var entry = pending[r.id] ?? (Matrix(rows: rows, cols: layout.outputCount), [], 0)
                            guard entry.answered.insert(k).inserted else {
                                throw SubstrateError.malformedReply("tile \(k + 1) answered probe \(r.id) twice")
                            }
                            entry.sum.addColumns(r.outputs, at: layout.tile(k).cols)
                            entry.count += r.measurementCount
                            if entry.answered.count == tiles.count {
                                pending[r.id] = nil
                                continuation.yield(
                                    ProbeResult(id: r.id, outputs: entry.sum, measurementCount: entry.count))
                            } else {
                                pending[r.id] = entry
                            }
                        }
                        return (-1, ProbeResult(id: -1, outputs: Matrix(rows: 0, cols: 0), measurementCount: 0))
                    }
                    var finished = 0
                    for try await (k, _) in group where k >= 0 {
                        finished += 1
                        if finished == tiles.count { feed.finish() }
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Every tile to its safe state (all are tried; the first failure is rethrown).
    public func enterSafeState() async throws {
        var failure: (any Error)?
        for tile in tiles {
            do { try await tile.enterSafeState() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}
