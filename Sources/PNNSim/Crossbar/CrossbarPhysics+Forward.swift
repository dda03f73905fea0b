import Foundation
import PNNCore

/// Drifted conductances at one simulated time, reused by successive forward passes.
/// Every entry is a pure function of the state and `time`, so a cache rebuilt after a
/// state import is bit-identical to the one it replaces.
struct ForwardCache: Sendable {
    /// Simulated time the conductances were evaluated at, s.
    var time: Double
    /// Smallest device age (time − programmedAt) at `time`, s; may be negative for
    /// devices programmed after `time`.
    var minAge: Double
    /// Largest device age at `time`, s (an upper bound once devices are reprogrammed).
    var maxAge: Double
    /// rows × physical columns, µS.
    var conductance: Matrix
    /// Element-wise squares of `conductance` (only with exact read noise).
    var squared: Matrix?
    /// √(meanᵢ Gᵢ,col²) per physical column (mean-field read noise).
    var columnRMS: [Double]
    /// Columns whose `columnRMS` must be recomputed.
    var staleColumns: [Bool]
    var anyStale: Bool
    /// Whether any device can drift at all (otherwise the cache never ages).
    var drifts: Bool

    /// Recomputes `columnRMS` of stale columns, summing rows in ascending order.
    mutating func refreshColumns() {
        guard anyStale else { return }
        let rows = conductance.rows
        let cols = conductance.cols
        var sums = [Double](repeating: 0, count: cols)
        conductance.storage.withUnsafeBufferPointer { g in
            for r in 0..<rows {
                for c in 0..<cols where staleColumns[c] { sums[c] += g[r * cols + c] * g[r * cols + c] }
            }
        }
        for c in 0..<cols where staleColumns[c] {
            columnRMS[c] = (sums[c] / Double(rows)).squareRoot()
            staleColumns[c] = false
        }
        anyStale = false
    }
}

/// The last DAC conversion, kept with (a reference to) the input it came from.
struct DACMemo: Sendable {
    var input: Matrix
    var volts: Matrix
    var rowSumSquares: [Double]
}

/// Buffers the forward pass reuses between calls. Never part of the state: every value
/// computed from them is a pure function of the state and the inputs.
struct ForwardScratch: Sendable {
    var dac: DACMemo?
    var columns: Matrix?
    var normals: [Double] = []
    /// Which column readings of the last pass were clipped at full scale (batch × physical).
    var clipped: [Bool] = []
}

extension CrossbarPhysics {
    /// Applies each input row (volts, one per input line) and returns the logical outputs
    /// I(2j) − I(2j+1) in µA, one row per input vector. Includes DAC quantisation, read
    /// noise, ADC gain and offset, ADC quantisation and saturation, dead columns and drift. Costs
    /// `readTimePerVector` per vector.
    public mutating func forward(_ inputs: Matrix) -> Matrix {
        var ignored: [Bool] = []
        return forward(inputs, saturated: &ignored)
    }

    /// `forward`, also marking saturated outputs: `saturated` (batch × outputs, vector-major;
    /// reset to all false when its size differs) gets `true` for every output one of whose
    /// two columns was clipped at ±full scale in this pass. Flags already set stay set, so
    /// repeated passes over the same batch accumulate.
    public mutating func forward(_ inputs: Matrix, saturated: inout [Bool]) -> Matrix {
        var currents = scratch.columns.take() ?? Matrix(rows: 0, cols: 0)
        measureColumns(inputs, into: &currents)
        let batch = currents.rows
        let outputs = config.outputs
        let physical = currents.cols
        var out = Matrix(rows: batch, cols: outputs)
        if saturated.count != batch * outputs { saturated = [Bool](repeating: false, count: batch * outputs) }
        currents.storage.withUnsafeBufferPointer { cur in
            out.storage.withUnsafeMutableBufferPointer { o in
                for b in 0..<batch {
                    for j in 0..<outputs { o[b * outputs + j] = cur[b * physical + 2 * j] - cur[b * physical + 2 * j + 1] }
                }
            }
        }
        let clipped = scratch.clipped
        for b in 0..<batch {
            for j in 0..<outputs where clipped[b * physical + 2 * j] || clipped[b * physical + 2 * j + 1] {
                saturated[b * outputs + j] = true
            }
        }
        scratch.columns = currents
        return out
    }

    /// Like `forward`, but returns every physical column's ADC reading (batch × 2·outputs,
    /// µA): what a calibration routine looks at to find a dead column.
    public mutating func forwardPhysicalColumns(_ inputs: Matrix) -> Matrix {
        var currents = Matrix(rows: 0, cols: 0)
        measureColumns(inputs, into: &currents)
        return currents
    }

    /// `forwardPhysicalColumns`, also marking clipped readings: `clipped` (batch × 2·outputs;
    /// reset to all false when its size differs) gets `true` for every column reading
    /// clipped at ±full scale in this pass; flags already set stay set.
    public mutating func forwardPhysicalColumns(_ inputs: Matrix, clipped: inout [Bool]) -> Matrix {
        let currents = forwardPhysicalColumns(inputs)
        if clipped.count != scratch.clipped.count { clipped = [Bool](repeating: false, count: scratch.clipped.count) }
        for (i, c) in scratch.clipped.enumerated() where c { clipped[i] = true }
        return currents
    }

    /// The physical column readings for `inputs`, written into `currents` (reshaped if needed).
    private mutating func measureColumns(_ inputs: Matrix, into currents: inout Matrix) {
        precondition(inputs.cols == config.rows, "inputs have \(inputs.cols) channels, the array has \(config.rows) rows")
        let batch = inputs.rows
        let physical = config.physicalColumns
        if currents.rows != batch || currents.cols != physical { currents = Matrix(rows: batch, cols: physical) }
        ensureFreshCache()
        let (volts, rowSumSquares) = convertInputs(inputs)
        Matrix.gemm(volts, cache!.conductance, into: &currents)
        if config.readNoise > 0 && batch > 0 { addReadNoise(&currents, volts: volts, rowSumSquares: rowSumSquares) }
        if hasConverterErrors {
            let (gain, offset) = (adcGain, adcOffset)
            currents.storage.withUnsafeMutableBufferPointer { cur in
                for b in 0..<batch {
                    for c in 0..<physical { cur[b * physical + c] = gain[c] * cur[b * physical + c] + offset[c] }
                }
            }
        }
        // Every ADC saturates at ±full scale (an ideal one only does not quantise).
        var clipped = scratch.clipped
        scratch.clipped = []
        if clipped.count != batch * physical { clipped = [Bool](repeating: false, count: batch * physical) }
        currents.storage.withUnsafeMutableBufferPointer { cur in
            clipped.withUnsafeMutableBufferPointer { flags in
                if let bits = config.adcBits, let step = config.adcStep {
                    Converter.quantise(cur, step: step, levels: CrossbarConfig.levels(bits: bits), clipped: flags)
                } else {
                    Converter.clip(cur, fullScale: config.effectiveFullScale, clipped: flags)
                }
            }
        }
        if !deadColumns.isEmpty {
            for b in 0..<batch {
                for c in deadColumns {
                    currents.storage[b * physical + c] = 0
                    clipped[b * physical + c] = false
                }
            }
        }
        scratch.clipped = clipped
        clock += Double(batch) * config.readTimePerVector
        counters.vectorsMeasured += batch
    }

    /// The DAC output for `inputs` and each row's Σ V². The result is remembered with the
    /// input it came from; measuring the very same input buffer again (probe repeats,
    /// Jacobian probes sharing one batch) reuses it. Sound because the memo retains the
    /// input buffer: any change to the caller's copy goes through copy-on-write to a new
    /// buffer, so an unchanged address means unchanged contents.
    private mutating func convertInputs(_ inputs: Matrix) -> (Matrix, [Double]) {
        if let memo = scratch.dac, memo.input.rows == inputs.rows, memo.input.cols == inputs.cols,
            Self.sameBuffer(memo.input.storage, inputs.storage)
        {
            return (memo.volts, memo.rowSumSquares)
        }
        // Reuse the previous output buffer (no 2 MB allocation per batch).
        var volts = scratch.dac.take()?.volts ?? Matrix(rows: inputs.rows, cols: inputs.cols)
        if volts.rows != inputs.rows || volts.cols != inputs.cols { volts = Matrix(rows: inputs.rows, cols: inputs.cols) }
        let sums = Converter.dac(
            inputs, step: config.dacStep, levels: config.dacBits.map(CrossbarConfig.levels(bits:)) ?? 0, into: &volts)
        scratch.dac = DACMemo(input: inputs, volts: volts, rowSumSquares: sums)
        return (volts, sums)
    }

    static func sameBuffer(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count
            && a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
    }

    /// Adds σ·√(Σᵢ Vᵢ²Gᵢ,col²)·N(0,1) to every physical column reading (exactly, or with
    /// the mean-field estimate (Σᵢ Vᵢ²)·meanᵢ(Gᵢ,col²)).
    private mutating func addReadNoise(_ currents: inout Matrix, volts: Matrix, rowSumSquares: [Double]) {
        let batch = currents.rows
        let physical = currents.cols
        let sigma = config.readNoise
        var z = scratch.normals
        scratch.normals = []
        if z.count != batch * physical { z = [Double](repeating: 0, count: batch * physical) }
        var noise = rng
        z.withUnsafeMutableBufferPointer { noise.fillStandardNormal($0) }
        rng = noise
        defer { scratch.normals = z }
        if let squared = cache!.squared {
            var v2 = Matrix(rows: batch, cols: volts.cols)
            volts.storage.withUnsafeBufferPointer { v in
                v2.storage.withUnsafeMutableBufferPointer { o in for i in o.indices { o[i] = v[i] * v[i] } }
            }
            var variance = Matrix(rows: batch, cols: physical)
            Matrix.gemm(v2, squared, into: &variance)
            currents.storage.withUnsafeMutableBufferPointer { cur in
                variance.storage.withUnsafeBufferPointer { variance in
                    z.withUnsafeBufferPointer { z in
                        for i in cur.indices { cur[i] += sigma * max(variance[i], 0).squareRoot() * z[i] }
                    }
                }
            }
            return
        }
        let rms = cache!.columnRMS
        currents.storage.withUnsafeMutableBufferPointer { cur in
            z.withUnsafeBufferPointer { z in
                rms.withUnsafeBufferPointer { rms in
                    for b in 0..<batch {
                        let scale = sigma * rowSumSquares[b].squareRoot()
                        for c in 0..<physical { cur[b * physical + c] += scale * rms[c] * z[b * physical + c] }
                    }
                }
            }
        }
    }

    /// Makes `cache` hold conductances no staler than `driftCacheTolerance` allows: reused
    /// while no device can drift, while every device is still younger than t0 (exact), or
    /// while the clock has moved less than the tolerance × max(youngest age, t0).
    mutating func ensureFreshCache() {
        if let c = cache {
            let elapsed = clock - c.time
            let fresh =
                !c.drifts || c.maxAge + elapsed <= config.driftT0
                || elapsed <= config.driftCacheTolerance * max(c.minAge, config.driftT0)
            if fresh {
                if c.anyStale { cache!.refreshColumns() }
                return
            }
        }
        cache = buildCache(at: clock, ages: nil)
    }

    /// Evaluates every device at `time`; `ages` overrides the computed (min, max) ages (import).
    func buildCache(at time: Double, ages: (min: Double, max: Double)?) -> ForwardCache {
        let n = deviceCount
        let t0 = config.driftT0
        var g = [Double](repeating: 0, count: n)
        var youngest = Double.infinity
        var oldest = -Double.infinity
        var drifts = false
        // Devices programmed together share log(age/t0); compute it once per run.
        var lastAge = Double.nan
        var lastLog = 0.0
        for d in 0..<n {
            let age = time - programmedAt[d]
            youngest = min(youngest, age)
            oldest = max(oldest, age)
            let nu = driftExponent[d]
            guard !stuck[d], nu > 0 else {
                g[d] = programmed[d]
                continue
            }
            drifts = true
            if age <= t0 {
                g[d] = programmed[d]
                continue
            }
            if age != lastAge {
                lastAge = age
                lastLog = log(age / t0)
            }
            g[d] = programmed[d] * exp(-nu * lastLog)
        }
        let conductance = Matrix(rows: config.rows, cols: config.physicalColumns, storage: g)
        var cache = ForwardCache(
            time: time, minAge: ages?.min ?? youngest, maxAge: ages?.max ?? oldest, conductance: conductance,
            squared: config.exactReadNoise
                ? Matrix(rows: config.rows, cols: config.physicalColumns, storage: g.map { $0 * $0 }) : nil,
            columnRMS: [Double](repeating: 0, count: config.physicalColumns),
            staleColumns: [Bool](repeating: true, count: config.physicalColumns), anyStale: true, drifts: drifts)
        cache.refreshColumns()
        return cache
    }

    /// Keeps the cache consistent after device `d` was (re)programmed.
    mutating func deviceChanged(_ d: Int) {
        guard let time = cache?.time else { return }
        let g = drifted(d, at: time)
        cache!.conductance.storage[d] = g
        cache!.squared?.storage[d] = g * g
        cache!.minAge = min(cache!.minAge, time - programmedAt[d])
        cache!.staleColumns[d % config.physicalColumns] = true
        cache!.anyStale = true
    }
}
