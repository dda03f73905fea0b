import Foundation
import PNNCore

/// The methods that train a cascade of units (`pnnlab train --layers …`).
public enum DeepMethod: String, Sendable, Codable, CaseIterable {
    /// Backpropagation on the units' ideal models, then program the devices and measure:
    /// the sim-to-real-gap baseline.
    case inSilico = "in-silico"
    /// Physics-aware training: forward pass on the devices, backward pass through each
    /// unit's model (its family's vector–Jacobian product) at the measured inputs.
    case pat
    /// Direct feedback alignment: forward pass on the devices; each hidden unit receives the
    /// output error through one fixed, seeded random matrix (sliced per unit) instead of
    /// the backpropagated one.
    case dfa
    /// Physical information bottleneck: units trained one after the other, each on its
    /// model with its own objective −I(Y;Z) + β·I(X;Z) (matrix-based Rényi α = 2) from the
    /// inputs the already deployed units produce on the devices, then deployed; the last unit
    /// with the readout's cross-entropy on its own outputs.
    case pib
}

/// The fixed shape and digital glue of a cascade of units: unit ℓ maps its input lines to
/// `widths[ℓ]` outputs; between units a digital layer h = tanh(y / s) turns the measured
/// outputs y into activations in (−1, 1), which drive the next unit's input lines as
/// x = mid + amplitude·h (mid and amplitude from that unit's declared safe input range), with
/// one extra bias line held at mid + amplitude. The last unit's outputs are the logits'
/// source (softmax with `gain` logits per output unit).
///
/// Since |h| < 1 and amplitude ≤ half the range, every drive lies inside the next unit's
/// safe range; it is clamped to the range as well, so rounding can never step outside.
public struct DeepArchitecture: Sendable, Codable, Equatable {
    /// Outputs of each unit (the last is the class count).
    public var widths: [Int]
    /// Input lines of each unit (unit 0: the encoded features and bias; unit ℓ > 0: widths[ℓ−1] + 1).
    public var inputLines: [Int]
    /// Middle of each unit's safe input range (unit 0's entry is unused: the encoder drives it).
    public var inputMid: [Double]
    /// Peak drive about the middle for each unit (unit 0's entry is unused).
    public var inputAmplitude: [Double]
    /// Lower and upper ends of each unit's safe input range.
    public var inputLower: [Double]
    public var inputUpper: [Double]
    /// s of each hidden unit's digital layer h = tanh(y/s), in the unit's output unit: the
    /// RMS output of the unit's ideal model over the training inputs at the initial
    /// parameters (so the layer starts in tanh's responsive range whatever the device).
    public var activationScale: [Double]
    /// Logits per output unit of the last unit.
    public var gain: Double

    public var unitCount: Int { widths.count }

    public init(
        widths: [Int], inputLines: [Int], inputMid: [Double], inputAmplitude: [Double], inputLower: [Double],
        inputUpper: [Double], activationScale: [Double], gain: Double
    ) {
        self.widths = widths
        self.inputLines = inputLines
        self.inputMid = inputMid
        self.inputAmplitude = inputAmplitude
        self.inputLower = inputLower
        self.inputUpper = inputUpper
        self.activationScale = activationScale
        self.gain = gain
    }

    /// The digital layer after unit ℓ (< last): activations h = tanh(y/s) and the next unit's drive.
    public func link(_ l: Int, outputs y: Matrix) -> (activations: Matrix, nextInputs: Matrix) {
        let s = activationScale[l]
        let n = l + 1
        let (mid, amp, lo, hi) = (inputMid[n], inputAmplitude[n], inputLower[n], inputUpper[n])
        var h = Matrix(rows: y.rows, cols: y.cols)
        var x = Matrix(rows: y.rows, cols: y.cols + 1)
        for r in 0..<y.rows {
            for c in 0..<y.cols {
                let a = tanh(y[r, c] / s)
                h[r, c] = a
                x[r, c] = min(max(mid + amp * a, lo), hi)
            }
            x[r, y.cols] = min(max(mid + amp, lo), hi)
        }
        return (h, x)
    }

    /// ∂L/∂y of unit ℓ (< last) from ∂L/∂x of unit ℓ+1 (bias line dropped) and unit ℓ's activations.
    public func linkBackward(_ l: Int, inputCotangent gx: Matrix, activations h: Matrix) -> Matrix {
        let s = activationScale[l]
        let amp = inputAmplitude[l + 1]
        var v = Matrix(rows: h.rows, cols: h.cols)
        for r in 0..<h.rows {
            for c in 0..<h.cols { v[r, c] = gx[r, c] * amp * (1 - h[r, c] * h[r, c]) / s }
        }
        return v
    }

    /// tanh′ of the digital layer after unit ℓ, per output unit: (1 − h²)/s.
    public func linkSlope(_ l: Int, activations h: Matrix) -> Matrix {
        let s = activationScale[l]
        return Matrix(rows: h.rows, cols: h.cols, storage: h.storage.map { (1 - $0 * $0) / s })
    }
}

/// What a forward pass through the cascade saw: each unit's inputs and outputs, and the
/// activations of the digital layers.
public struct DeepTrace: Sendable {
    /// x of each unit.
    public var inputs: [Matrix] = []
    /// y of each unit (measured on the devices, or the models' outputs).
    public var outputs: [Matrix] = []
    /// h after each hidden unit.
    public var activations: [Matrix] = []

    public init() {}

    /// The last unit's outputs.
    public var logitsSource: Matrix { outputs.last ?? Matrix(rows: 0, cols: 0) }
}

extension DeepArchitecture {
    /// A forward pass where `unit(ℓ, x)` gives unit ℓ's outputs (a device measurement or a model).
    public func forward(_ x0: Matrix, unit: (Int, Matrix) async throws -> Matrix) async rethrows -> DeepTrace {
        var trace = DeepTrace()
        var x = x0
        for l in 0..<unitCount {
            let y = try await unit(l, x)
            trace.inputs.append(x)
            trace.outputs.append(y)
            if l < unitCount - 1 {
                let (h, next) = link(l, outputs: y)
                trace.activations.append(h)
                x = next
            }
        }
        return trace
    }

    /// The same forward pass through the units' models, synchronously.
    public func modelForward(_ x0: Matrix, models: [any SubstrateModel], theta: [[Double]]) -> DeepTrace {
        var trace = DeepTrace()
        var x = x0
        for l in 0..<unitCount {
            let y = models[l].forward(theta: theta[l], inputs: x)
            trace.inputs.append(x)
            trace.outputs.append(y)
            if l < unitCount - 1 {
                let (h, next) = link(l, outputs: y)
                trace.activations.append(h)
                x = next
            }
        }
        return trace
    }

    /// The last unit's outputs of a forward pass, keeping only the current unit's inputs
    /// (evaluation: nothing is stored across units, unlike `forward`'s trace for a backward pass).
    public func forwardLast(_ x0: Matrix, unit: (Int, Matrix) async throws -> Matrix) async rethrows -> Matrix {
        var x = x0
        for l in 0..<unitCount {
            let y = try await unit(l, x)
            if l == unitCount - 1 { return y }
            x = link(l, outputs: y).nextInputs
        }
        return Matrix(rows: 0, cols: 0)
    }

    /// `forwardLast` through the units' models.
    public func modelForwardLast(_ x0: Matrix, models: [any SubstrateModel], theta: [[Double]]) -> Matrix {
        var x = x0
        for l in 0..<unitCount {
            let y = models[l].forward(theta: theta[l], inputs: x)
            if l == unitCount - 1 { return y }
            x = link(l, outputs: y).nextInputs
        }
        return Matrix(rows: 0, cols: 0)
    }

    /// Backpropagation of the output cotangent `v` (∂L/∂y of the last unit) through the
    /// models at the trace's inputs: ∂L/∂θ of every unit.
    public func backward(_ trace: DeepTrace, outputCotangent v: Matrix, models: [any SubstrateModel], theta: [[Double]])
        -> [[Double]]
    {
        var grads = [[Double]](repeating: [], count: unitCount)
        var cot = v
        for l in stride(from: unitCount - 1, through: 0, by: -1) {
            let (gTheta, gx) = models[l].vjp(theta: theta[l], inputs: trace.inputs[l], cotangent: cot)
            grads[l] = gTheta
            if l > 0 { cot = linkBackward(l - 1, inputCotangent: gx, activations: trace.activations[l - 1]) }
        }
        return grads
    }

    /// Direct feedback alignment: the last unit gets its true local gradient; hidden unit ℓ
    /// gets (e·Bₗ) ⊙ f′, with Bₗ its slice of the fixed feedback matrix, carried to θ by the
    /// unit's own vector–Jacobian product (its local dependence on its parameters only).
    public func feedbackAlignment(
        _ trace: DeepTrace, outputCotangent e: Matrix, feedback: [Matrix], models: [any SubstrateModel], theta: [[Double]]
    ) -> [[Double]] {
        var grads = [[Double]](repeating: [], count: unitCount)
        let last = unitCount - 1
        grads[last] = models[last].vjp(theta: theta[last], inputs: trace.inputs[last], cotangent: e).theta
        for l in 0..<last {
            var d = Matrix.product(e, feedback[l])
            let slope = linkSlope(l, activations: trace.activations[l])
            for i in d.storage.indices { d.storage[i] *= slope.storage[i] }
            grads[l] = models[l].vjp(theta: theta[l], inputs: trace.inputs[l], cotangent: d).theta
        }
        return grads
    }

    /// The fixed feedback matrices of direct feedback alignment: one seeded K × Σ hidden
    /// widths Gaussian matrix, sliced per hidden unit, each slice scaled 1/√width.
    public func feedbackMatrices(seed: UInt64) -> [Matrix] {
        var rng = SeededRandom.derived(seed: seed, stream: 0xDFA)
        let k = widths.last ?? 0
        var out: [Matrix] = []
        for l in 0..<(unitCount - 1) {
            let w = widths[l]
            let scale = 1 / Double(w).squareRoot()
            var b = Matrix(rows: k, cols: w)
            for i in b.storage.indices { b.storage[i] = scale * rng.normal() }
            out.append(b)
        }
        return out
    }
}

/// Adam on one unit's parameters, with steps in units of each parameter's range (so the
/// same rate suits conductances in µS and phases in rad), projected back into the range.
public struct AdamState: Sendable, Codable, Equatable {
    public var m: [Double]
    public var v: [Double]
    public var t: Int

    public init(count: Int) {
        m = [Double](repeating: 0, count: count)
        v = m
        t = 0
    }

    public static let beta1 = 0.9
    public static let beta2 = 0.999
    public static let epsilon = 1e-8

    /// θ ← clip(θ − rate·range·m̂/(√v̂ + ε)); no clipping when `lower`/`upper` are nil.
    public mutating func step(
        _ theta: inout [Double], gradient g: [Double], rate: Double, range: [Double], lower: [Double]?, upper: [Double]?
    ) {
        t += 1
        let b1 = Self.beta1, b2 = Self.beta2
        let c1 = 1 - pow(b1, Double(t)), c2 = 1 - pow(b2, Double(t))
        for i in theta.indices {
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            var next = theta[i] - rate * range[i] * (m[i] / c1) / ((v[i] / c2).squareRoot() + Self.epsilon)
            if let lower, let upper { next = min(max(next, lower[i]), upper[i]) }
            theta[i] = next
        }
    }
}
