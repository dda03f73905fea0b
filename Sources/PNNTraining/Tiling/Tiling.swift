import PNNCore

/// How a unit too large for one array is split over several (`--tile-outputs N`,
/// `--tile-rows N`, or a config file's `[tiling]` table): at most `maxOutputs` outputs and
/// `maxRows` input lines per array; nil leaves that side whole. A unit that fits keeps one
/// array.
public struct Tiling: Sendable, Codable, Equatable {
    /// Most outputs one array carries (output blocks, concatenated).
    public var maxOutputs: Int?
    /// Most input lines one array carries (row blocks, partial sums added digitally).
    public var maxRows: Int?

    enum CodingKeys: String, CodingKey {
        case maxOutputs = "max_outputs"
        case maxRows = "max_rows"
    }

    public init(maxOutputs: Int? = nil, maxRows: Int? = nil) {
        self.maxOutputs = maxOutputs
        self.maxRows = maxRows
    }

    /// Whether any side is limited.
    public var isEmpty: Bool { maxOutputs == nil && maxRows == nil }

    /// The blocks of a unit with `inputs` lines and `outputs` outputs.
    public func layout(inputs: Int, outputs: Int) -> TileLayout {
        TileLayout(rowBlocks: Self.blocks(inputs, most: maxRows), colBlocks: Self.blocks(outputs, most: maxOutputs))
    }

    /// `n` split into ⌈n / most⌉ contiguous blocks as even as possible (the first ones one longer).
    static func blocks(_ n: Int, most: Int?) -> [Range<Int>] {
        guard let most, most >= 1, n > most else { return [0..<n] }
        let count = (n + most - 1) / most
        let base = n / count
        let extra = n % count
        var out: [Range<Int>] = []
        var start = 0
        for b in 0..<count {
            let size = base + (b < extra ? 1 : 0)
            out.append(start..<(start + size))
            start += size
        }
        return out
    }
}

/// Which input lines and outputs of one unit each array carries. Tiles are numbered row block
/// first: tile k covers input lines `rowBlocks[k / colBlocks.count]` and outputs
/// `colBlocks[k % colBlocks.count]`. The unit's bias line is its last input line, so it lies
/// in the last row block only.
public struct TileLayout: Sendable, Codable, Equatable {
    public var rowBlocks: [Range<Int>]
    public var colBlocks: [Range<Int>]

    public init(rowBlocks: [Range<Int>], colBlocks: [Range<Int>]) {
        self.rowBlocks = rowBlocks
        self.colBlocks = colBlocks
    }

    public var tileCount: Int { rowBlocks.count * colBlocks.count }
    public var inputCount: Int { rowBlocks.last?.upperBound ?? 0 }
    public var outputCount: Int { colBlocks.last?.upperBound ?? 0 }

    /// Input lines and outputs of tile `k`.
    public func tile(_ k: Int) -> (rows: Range<Int>, cols: Range<Int>) {
        (rowBlocks[k / colBlocks.count], colBlocks[k % colBlocks.count])
    }

    /// `rows × cols` of every tile, for messages.
    public var summary: String {
        (0..<tileCount).map { k in
            let t = tile(k)
            return "\(t.rows.count)×\(t.cols.count)"
        }.joined(separator: ", ")
    }
}

/// One unit's model made of its tiles' models: y[:, cols_k] += f_k(θ_k, x[:, rows_k]) over the
/// tiles k, θ the tiles' parameters concatenated in tile order. The vector–Jacobian product
/// gives each tile's ∂θ from its block of the cotangent, and sums the tiles' ∂x over the
/// output blocks that share a row block.
public struct TiledModel: SubstrateModel {
    public let layout: TileLayout
    public let tiles: [any SubstrateModel]
    /// Where each tile's parameters start in θ (one more entry: the total).
    public let offsets: [Int]

    /// Checks every tile model's shape against its block of the layout.
    public init(layout: TileLayout, tiles: [any SubstrateModel]) throws(TrainingError) {
        guard tiles.count == layout.tileCount else {
            throw .shapeMismatch("the tiling needs \(layout.tileCount) tile models, got \(tiles.count)")
        }
        var offsets = [0]
        for (k, m) in tiles.enumerated() {
            let t = layout.tile(k)
            guard m.inputCount == t.rows.count, m.outputCount == t.cols.count else {
                throw .shapeMismatch(
                    "tile \(k + 1) needs \(t.rows.count) input lines and \(t.cols.count) outputs; its model has \(m.inputCount) and \(m.outputCount)"
                )
            }
            offsets.append(offsets[k] + m.parameterCount)
        }
        self.layout = layout
        self.tiles = tiles
        self.offsets = offsets
    }

    public var parameterCount: Int { offsets.last ?? 0 }
    public var inputCount: Int { layout.inputCount }
    public var outputCount: Int { layout.outputCount }

    /// Tile k's parameters.
    public func theta(_ theta: [Double], tile k: Int) -> [Double] { Array(theta[offsets[k]..<offsets[k + 1]]) }

    public func forward(theta: [Double], inputs: Matrix) -> Matrix {
        precondition(theta.count == parameterCount && inputs.cols == inputCount)
        var y = Matrix(rows: inputs.rows, cols: outputCount)
        for k in tiles.indices {
            let t = layout.tile(k)
            let part = tiles[k].forward(theta: self.theta(theta, tile: k), inputs: inputs.columns(t.rows))
            y.addColumns(part, at: t.cols)
        }
        return y
    }

    public func vjp(theta: [Double], inputs: Matrix, cotangent: Matrix) -> (theta: [Double], inputs: Matrix) {
        precondition(theta.count == parameterCount && inputs.cols == inputCount && cotangent.cols == outputCount)
        var gTheta: [Double] = []
        gTheta.reserveCapacity(parameterCount)
        var gx = Matrix(rows: inputs.rows, cols: inputCount)
        for k in tiles.indices {
            let t = layout.tile(k)
            let (g, x) = tiles[k].vjp(
                theta: self.theta(theta, tile: k), inputs: inputs.columns(t.rows), cotangent: cotangent.columns(t.cols))
            gTheta.append(contentsOf: g)
            gx.addColumns(x, at: t.rows)
        }
        return (gTheta, gx)
    }
}

extension Matrix {
    /// The columns in `range`, all rows.
    func columns(_ range: Range<Int>) -> Matrix {
        if range == 0..<cols { return self }
        var out = Matrix(rows: rows, cols: range.count)
        for r in 0..<rows {
            for (j, c) in range.enumerated() { out.storage[r * range.count + j] = storage[r * cols + c] }
        }
        return out
    }

    /// Adds `part` into the columns in `range`.
    mutating func addColumns(_ part: Matrix, at range: Range<Int>) {
        precondition(part.rows == rows && part.cols == range.count)
        for r in 0..<rows {
            for (j, c) in range.enumerated() { storage[r * cols + c] += part.storage[r * part.cols + j] }
        }
    }
}
