/// A family's differentiable model of one device: the outputs y = f(θ, x) an ideal device of
/// that geometry gives, and the vector–Jacobian product that carries an output cotangent back
/// to the parameters and the inputs. Physics-aware training runs the forward pass on the
/// device and the backward pass through this model at the saved inputs; in-silico training
/// and the digital ceilings run both through it.
///
/// Units are the descriptor's: θ in the parameter unit, x in the input unit, y in the output
/// unit; cotangents are ∂L/∂y per output unit.
public protocol SubstrateModel: Sendable {
    /// Parameters the model takes (the descriptor's parameter count).
    var parameterCount: Int { get }
    /// Input lines (columns of `inputs`).
    var inputCount: Int { get }
    /// Outputs (columns of the result).
    var outputCount: Int { get }

    /// y = f(θ, x): one output row per input row.
    func forward(theta: [Double], inputs: Matrix) -> Matrix

    /// (∂θ, ∂x) = vᵀ ∂f/∂(θ, x) at (θ, x), for a cotangent `v` with one row per input row:
    /// ∂θ summed over the rows, ∂x one row per input row.
    func vjp(theta: [Double], inputs: Matrix, cotangent: Matrix) -> (theta: [Double], inputs: Matrix)

    /// Whether ∂x carries how the outputs depend on the inputs; false for a model whose
    /// inputs act through a step (binary-amplitude optics inputs), whose ∂x is 0 everywhere,
    /// so backpropagation cannot reach the units before it.
    var inputsDifferentiable: Bool { get }
}

extension SubstrateModel {
    public var inputsDifferentiable: Bool { true }
}
