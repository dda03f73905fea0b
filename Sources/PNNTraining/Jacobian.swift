import PNNCore

/// Finite-difference scheme for Jacobian columns.
public enum DifferenceScheme: String, Sendable, Codable, CaseIterable {
    /// (f(θ+h) − f(θ−h)) / 2h: 2 probes per parameter, error O(h²).
    case central
    /// (f(θ+h) − f(θ)) / h: 1 probe per parameter plus one shared base, error O(h).
    case forward
}

/// A Jacobian estimate with what it cost.
public struct JacobianEstimate: Sendable {
    /// (batch · outputs) × parameters; row `b·outputs + j` is output j of sample b.
    public var jacobian: Matrix
    /// Outputs at the unperturbed parameters (batch × outputs), measured in the same pass.
    public var baseOutputs: Matrix
    /// Input vectors applied to the device.
    public var measurements: Int
}

/// Estimates ∂y/∂θ on a device by streaming one probe per perturbation (two for the
/// central scheme) and consuming results while the device keeps working.
///
/// The step for parameter i is `stepResolutions` × its resolution (the device cannot
/// resolve less), shrunk one-sidedly where θᵢ sits near a safe bound so no probe ever
/// leaves the safe range.
public struct JacobianEstimator: Sendable {
    public var scheme: DifferenceScheme
    /// Step size in multiples of each parameter's resolution.
    public var stepResolutions: Double
    /// Reads averaged per probe to beat read noise.
    public var repeats: Int

    public init(scheme: DifferenceScheme = .central, stepResolutions: Double = 8, repeats: Int = 1) {
        self.scheme = scheme
        self.stepResolutions = stepResolutions
        self.repeats = max(1, repeats)
    }

    /// The probes for parameters `indices` at θ on `inputs`: id 0 is the base
    /// measurement; ids 2k+1 / 2k+2 are the + / − probes of `indices[k]`.
    func probes(theta: [Double], indices: [Int], inputs: Matrix, space: ParameterSpace) -> (
        probes: [Probe], steps: [(plus: Double, minus: Double)]
    ) {
        var probes = [Probe(id: 0, inputs: inputs, repeats: repeats)]
        var steps: [(Double, Double)] = []
        probes.reserveCapacity(2 * indices.count + 1)
        for (k, i) in indices.enumerated() {
            let h = stepResolutions * space.resolution[i]
            var plus = min(h, space.upper[i] - theta[i])
            var minus = scheme == .central ? min(h, theta[i] - space.lower[i]) : 0
            if plus <= 0 && minus <= 0 { minus = min(h, theta[i] - space.lower[i]) }
            plus = max(plus, 0)
            minus = max(minus, 0)
            steps.append((plus, minus))
            if plus > 0 {
                probes.append(
                    Probe(
                        id: 2 * k + 1, changes: [ParameterChange(index: i, value: theta[i] + plus)], inputs: inputs,
                        repeats: repeats))
            }
            if minus > 0 {
                probes.append(
                    Probe(
                        id: 2 * k + 2, changes: [ParameterChange(index: i, value: theta[i] - minus)], inputs: inputs,
                        repeats: repeats))
            }
        }
        return (probes, steps)
    }

    /// Estimate the Jacobian of every output on `inputs` with respect to all parameters
    /// (or only `indices`, whose columns then appear in that order).
    public func estimate(on substrate: any Substrate, theta: [Double], inputs: Matrix, indices: [Int]? = nil) async throws
        -> JacobianEstimate
    {
        let space = substrate.descriptor.parameters
        let chosen = indices ?? Array(0..<space.count)
        let (probes, steps) = probes(theta: theta, indices: chosen, inputs: inputs, space: space)
        var results: [Int: Matrix] = [:]
        var measurements = 0
        for try await result in try substrate.stream(probes) {
            results[result.id] = result.outputs
            measurements += result.measurementCount
        }
        guard let base = results[0] else { throw SubstrateError.malformedReply("no result for the base probe") }
        let rowsJ = base.rows * base.cols
        var jac = Matrix(rows: rowsJ, cols: chosen.count)
        for k in chosen.indices {
            let (plus, minus) = steps[k]
            let yPlus = plus > 0 ? results[2 * k + 1] : base
            let yMinus = minus > 0 ? results[2 * k + 2] : base
            guard let yp = yPlus, let ym = yMinus, plus + minus > 0 else { continue }
            guard yp.rows == base.rows, ym.rows == base.rows else {
                throw SubstrateError.malformedReply(
                    "probe for \(space.name(of: chosen[k])) returned \(yp.rows) rows, expected \(base.rows)")
            }
            let denom = plus + minus
            for r in 0..<rowsJ { jac[r, k] = (yp.storage[r] - ym.storage[r]) / denom }
        }
        return JacobianEstimate(jacobian: jac, baseOutputs: base, measurements: measurements)
    }
}
