import PNNCore

/// The differential crossbar as a calibration measured it, as a differentiable model: each
/// device holds its target conductance within its own window [G_min,d, G_max,d] (a stuck
/// device its stuck level whatever the target), each physical column's ADC reads
/// gain_c·I_c + offset_c (a dead column, gain 0, reads 0) and clips at ±full scale, and
/// y_j = reading(2j) − reading(2j+1) (µA). Parameters are ordered like `CrossbarModel`'s,
/// index = (i·outputs + j)·2 + side = i·2·outputs + c with c = 2j + side the physical column.
///
/// The vector–Jacobian product: ∂θ_d = gain_c·Σ_b x_bi v_bj·(±1) for a working device of a
/// live column whose reading did not clip, 0 for a stuck device, a dead or a clipped column;
/// outside its window a working device passes the gradient straight through (the device
/// sits at the window's end, but a zero gradient there would leave the target stranded
/// where the device cannot follow it back); ∂x_bi = Σ_c v_bc·gain_c·G_eff,ic over unclipped
/// readings, with v_b,2j = v_bj and v_b,2j+1 = −v_bj.
public struct CalibratedCrossbarModel: SubstrateModel {
    public let rows: Int
    public let outputs: Int
    /// Each device's window, µS, in parameter order (a stuck device: its level in both).
    public let gMin: [Double]
    public let gMax: [Double]
    /// Devices that do not move, in parameter order.
    public let stuck: [Bool]
    /// Per physical column: ADC gain (0: dead) and offset, µA.
    public let adcGain: [Double]
    public let adcOffset: [Double]
    /// ADC full scale, µA (nil: no clipping).
    public let fullScale: Double?

    /// Refused unless every array has the geometry's length and every window is ordered.
    public init(
        rows: Int, outputs: Int, gMin: [Double], gMax: [Double], stuck: [Bool], adcGain: [Double], adcOffset: [Double],
        fullScale: Double?
    ) throws(CrossbarModelError) {
        let devices = 2 * rows * outputs
        guard rows >= 1, outputs >= 1 else { throw .invalid("a crossbar has at least one row and one output") }
        guard gMin.count == devices, gMax.count == devices, stuck.count == devices else {
            throw .invalid(
                "the windows and stuck flags cover \(gMin.count), \(gMax.count) and \(stuck.count) devices; the \(rows) × \(2 * outputs) array has \(devices)"
            )
        }
        guard adcGain.count == 2 * outputs, adcOffset.count == 2 * outputs else {
            throw .invalid("the ADC gains and offsets cover \(adcGain.count) and \(adcOffset.count) columns, not \(2 * outputs)")
        }
        guard zip(gMin, gMax).allSatisfy({ $0.isFinite && $1.isFinite && $0 <= $1 }) else {
            throw .invalid("every device window needs a finite G_min ≤ G_max")
        }
        guard (adcGain + adcOffset).allSatisfy(\.isFinite), fullScale.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw .invalid("ADC gains, offsets and the full scale must be finite (full scale positive)")
        }
        self.rows = rows
        self.outputs = outputs
        self.gMin = gMin
        self.gMax = gMax
        self.stuck = stuck
        self.adcGain = adcGain
        self.adcOffset = adcOffset
        self.fullScale = fullScale
    }

    public var parameterCount: Int { 2 * rows * outputs }
    public var inputCount: Int { rows }
    public var outputCount: Int { outputs }
    var columns: Int { 2 * outputs }

    /// The conductances the devices hold for targets `theta` (rows × physical columns, µS).
    public func conductances(_ theta: [Double]) -> Matrix {
        precondition(theta.count == parameterCount, "the crossbar model takes \(parameterCount) conductances")
        var g = Matrix(rows: rows, cols: columns)
        for d in 0..<parameterCount { g.storage[d] = stuck[d] ? gMin[d] : min(max(theta[d], gMin[d]), gMax[d]) }
        return g
    }

    /// Column readings before the differential: gain·I + offset, clipped; and which clipped.
    func readings(theta: [Double], inputs: Matrix) -> (Matrix, [Bool], Matrix) {
        precondition(inputs.cols == rows, "inputs have \(inputs.cols) lines, the crossbar has \(rows)")
        let g = conductances(theta)
        var r = Matrix.product(inputs, g)
        var clipped = [Bool](repeating: false, count: r.storage.count)
        for k in r.storage.indices {
            let c = k % columns
            var v = adcGain[c] == 0 ? 0 : adcGain[c] * r.storage[k] + adcOffset[c]
            if let fs = fullScale, abs(v) > fs {
                v = v > 0 ? fs : -fs
                clipped[k] = true
            }
            r.storage[k] = v
        }
        return (r, clipped, g)
    }

    public func forward(theta: [Double], inputs: Matrix) -> Matrix {
        let (r, _, _) = readings(theta: theta, inputs: inputs)
        var y = Matrix(rows: inputs.rows, cols: outputs)
        for b in 0..<inputs.rows {
            for j in 0..<outputs {
                y.storage[b * outputs + j] = r.storage[b * columns + 2 * j] - r.storage[b * columns + 2 * j + 1]
            }
        }
        return y
    }

    public func vjp(theta: [Double], inputs: Matrix, cotangent: Matrix) -> (theta: [Double], inputs: Matrix) {
        precondition(cotangent.cols == outputs && cotangent.rows == inputs.rows)
        let (_, clipped, g) = readings(theta: theta, inputs: inputs)
        // Cotangent of each physical column's current I_c (before the ADC): ±v·gain, 0 where clipped.
        var vc = Matrix(rows: inputs.rows, cols: columns)
        for b in 0..<inputs.rows {
            for c in 0..<columns where !clipped[b * columns + c] {
                let sign: Double = c % 2 == 0 ? 1 : -1
                vc.storage[b * columns + c] = sign * adcGain[c] * cotangent.storage[b * outputs + c / 2]
            }
        }
        var gTheta = Matrix.product(inputs, transposeA: true, vc).storage  // rows × columns = parameter order
        for d in gTheta.indices where stuck[d] { gTheta[d] = 0 }
        let gx = Matrix.product(vc, g, transposeB: true)
        return (gTheta, gx)
    }
}

/// Why a calibrated crossbar model could not be built.
public enum CrossbarModelError: Error, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let why): "the calibrated crossbar model is unusable: \(why)"
        }
    }
}
