import Foundation
import PNNCore

/// How measured outputs become class scores and a loss.
public enum ReadoutKind: String, Sendable, Codable, CaseIterable {
    /// logits = gain · y; softmax cross-entropy loss.
    case softmax
    /// Least squares to one-hot targets: y* = `targetCurrent` for the label, 0 otherwise.
    case leastSquares = "least-squares"
}

/// Turns a batch of measured outputs (µA, one row per sample) into predictions, a loss,
/// the loss gradient with respect to the outputs, and the output-space step that
/// target-referenced (Gauss–Newton) updates aim for.
public struct Readout: Sendable, Codable, Equatable {
    public var kind: ReadoutKind
    /// Logits per output unit (1/µA) for `.softmax`.
    public var gain: Double
    /// Target output for the correct class (µA) for `.leastSquares`.
    public var targetCurrent: Double

    public init(kind: ReadoutKind, gain: Double, targetCurrent: Double) {
        self.kind = kind
        self.gain = gain
        self.targetCurrent = targetCurrent
    }

    /// Predicted class per row (argmax of the outputs).
    public func predictions(_ outputs: Matrix) -> [Int] {
        (0..<outputs.rows).map { r in
            var best = 0
            for c in 1..<outputs.cols where outputs[r, c] > outputs[r, best] { best = c }
            return best
        }
    }

    /// Fraction of rows whose prediction equals the label.
    public func accuracy(_ outputs: Matrix, labels: [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        let p = predictions(outputs)
        return Double(zip(p, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// Softmax probabilities of each row.
    func probabilities(_ outputs: Matrix) -> Matrix {
        var p = Matrix(rows: outputs.rows, cols: outputs.cols)
        for r in 0..<outputs.rows {
            var m = -Double.infinity
            for c in 0..<outputs.cols { m = max(m, gain * outputs[r, c]) }
            var sum = 0.0
            for c in 0..<outputs.cols {
                let e = exp(gain * outputs[r, c] - m)
                p[r, c] = e
                sum += e
            }
            for c in 0..<outputs.cols { p[r, c] /= sum }
        }
        return p
    }

    /// Mean loss over the batch.
    public func loss(_ outputs: Matrix, labels: [Int]) -> Double {
        guard outputs.rows > 0 else { return 0 }
        switch kind {
        case .softmax:
            let p = probabilities(outputs)
            var total = 0.0
            for r in 0..<outputs.rows { total -= log(max(p[r, labels[r]], 1e-300)) }
            return total / Double(outputs.rows)
        case .leastSquares:
            var total = 0.0
            for r in 0..<outputs.rows {
                for c in 0..<outputs.cols {
                    let e = outputs[r, c] - (c == labels[r] ? targetCurrent : 0)
                    total += 0.5 * e * e
                }
            }
            return total / Double(outputs.rows)
        }
    }

    /// ∂(mean loss)/∂y, flattened row-major like the Jacobian's rows (µA⁻¹ units of loss).
    public func gradient(_ outputs: Matrix, labels: [Int]) -> [Double] {
        let n = Double(max(outputs.rows, 1))
        switch kind {
        case .softmax:
            var p = probabilities(outputs)
            for r in 0..<outputs.rows { p[r, labels[r]] -= 1 }
            return p.storage.map { gain * $0 / n }
        case .leastSquares:
            var g = outputs
            for r in 0..<outputs.rows { g[r, labels[r]] -= targetCurrent }
            return g.storage.map { $0 / n }
        }
    }

    /// The output change (µA, flattened) a target-referenced step should produce:
    /// for least squares the full residual y* − y; for softmax a logit step of
    /// −`logitStep`·(p − t), converted to output units.
    public func outputStep(_ outputs: Matrix, labels: [Int], logitStep: Double) -> [Double] {
        switch kind {
        case .softmax:
            var p = probabilities(outputs)
            for r in 0..<outputs.rows { p[r, labels[r]] -= 1 }
            return p.storage.map { -logitStep * $0 / gain }
        case .leastSquares:
            var g = outputs
            for r in 0..<outputs.rows { g[r, labels[r]] -= targetCurrent }
            return g.storage.map { -$0 }
        }
    }
}
