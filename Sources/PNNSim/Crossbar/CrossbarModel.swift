import PNNCore

/// The ideal differential crossbar as a differentiable model: y_j = Σᵢ xᵢ·(G⁺ᵢⱼ − G⁻ᵢⱼ)
/// (V·µS = µA), with parameters ordered like the twin's and the board's,
/// index = (i·outputs + j)·2 + (0 for G⁺, 1 for G⁻). No noise, drift, converters or window:
/// what physics-aware training differentiates through while the device does the forward pass.
///
/// The vector–Jacobian product is analytic: ∂G⁺ᵢⱼ = Σ_b x_bi v_bj = −∂G⁻ᵢⱼ and
/// ∂x_bi = Σⱼ (G⁺ᵢⱼ − G⁻ᵢⱼ) v_bj.
public struct CrossbarModel: SubstrateModel {
    public let rows: Int
    public let outputs: Int

    public init(rows: Int, outputs: Int) {
        self.rows = rows
        self.outputs = outputs
    }

    public var parameterCount: Int { 2 * rows * outputs }
    public var inputCount: Int { rows }
    public var outputCount: Int { outputs }

    /// W = G⁺ − G⁻ as a rows × outputs matrix, µS.
    public func weights(_ theta: [Double]) -> Matrix {
        precondition(theta.count == parameterCount, "the crossbar model takes \(parameterCount) conductances")
        var w = Matrix(rows: rows, cols: outputs)
        for k in 0..<(rows * outputs) { w.storage[k] = theta[2 * k] - theta[2 * k + 1] }
        return w
    }

    public func forward(theta: [Double], inputs: Matrix) -> Matrix {
        precondition(inputs.cols == rows, "inputs have \(inputs.cols) lines, the crossbar has \(rows)")
        return Matrix.product(inputs, weights(theta))
    }

    public func vjp(theta: [Double], inputs: Matrix, cotangent: Matrix) -> (theta: [Double], inputs: Matrix) {
        precondition(inputs.cols == rows && cotangent.cols == outputs && cotangent.rows == inputs.rows)
        let gw = Matrix.product(inputs, transposeA: true, cotangent)  // rows × outputs
        var gTheta = [Double](repeating: 0, count: parameterCount)
        for k in 0..<(rows * outputs) {
            gTheta[2 * k] = gw.storage[k]
            gTheta[2 * k + 1] = -gw.storage[k]
        }
        let gx = Matrix.product(cotangent, weights(theta), transposeB: true)
        return (gTheta, gx)
    }
}
