import Foundation
import PNNCore

/// The accuracy a run is chasing: the same architecture (one linear map from the device's
/// input lines to its class outputs, followed by the run's readout and loss), on the same
/// encoded inputs (bias line and padding lines included) and the same train/test split,
/// trained digitally with exact arithmetic — no read or write noise, no quantisation, no
/// conductance window.
///
/// - softmax readout: multinomial logistic regression, minimising the mean cross-entropy
///   plus `ridge`/2 · ‖U‖², where U holds logits per unit of normalised input (input volts
///   divided by the encoder's peak voltage, so the bias line is 1). Newton's method with a
///   backtracking line search, from U = 0, to a gradient norm below 1e-10: the optimum is
///   unique (the objective is strictly convex), so the result does not depend on the step
///   schedule, and the gain only rescales U (argmax, hence accuracy, is unchanged).
/// - least-squares readout: the exact ridge least-squares fit to the one-hot targets
///   (`targetCurrent` on the label), solved from the normal equations.
///
/// The ridge keeps a separable training set from sending the softmax weights to infinity;
/// it is small (1e-3, in logits² per normalised input) and stated, so the ceiling is one
/// well-defined number per run.
public struct DigitalCeiling: Sendable, Equatable, Codable {
    /// Accuracy of the digital model on the test split, 0…1 (the run's `digital_ceiling`).
    public var testAccuracy: Double
    /// Accuracy of the digital model on the training split, 0…1.
    public var trainAccuracy: Double
    /// Newton iterations (softmax) or 1 (least squares).
    public var iterations: Int

    /// Ridge strength on logits per normalised input (softmax) or on weights per
    /// normalised input in target units (least squares).
    public static let ridge = 1e-3

    /// Fits the digital model of `task` under `readout` and scores it on both splits.
    public static func fit(task: PreparedTask, readout: Readout) throws(TrainingError) -> DigitalCeiling {
        let scale = task.encoder.amplitude > 0 ? 1 / task.encoder.amplitude : 1
        let x = task.trainInputs.scaled(by: scale)
        let xTest = task.testInputs.scaled(by: scale)
        let k = task.classCount
        let labels = task.train.labels
        let weights: Matrix
        let iterations: Int
        switch readout.kind {
        case .softmax:
            (weights, iterations) = try softmaxNewton(x, labels: labels, classes: k, ridge: ridge)
        case .leastSquares:
            weights = try ridgeLeastSquares(x, labels: labels, classes: k, target: readout.targetCurrent, ridge: ridge)
            iterations = 1
        }
        let score = Readout(kind: .leastSquares, gain: 1, targetCurrent: 1)
        return DigitalCeiling(
            testAccuracy: score.accuracy(Matrix.product(xTest, weights), labels: task.test.labels),
            trainAccuracy: score.accuracy(Matrix.product(x, weights), labels: labels), iterations: iterations)
    }

    /// n × k weights W minimising ‖X W − T‖² + ridge · N · ‖W‖² (T one-hot × target).
    static func ridgeLeastSquares(_ x: Matrix, labels: [Int], classes k: Int, target: Double, ridge: Double)
        throws(TrainingError) -> Matrix
    {
        let n = x.cols
        var a = Matrix.product(x, transposeA: true, x).storage
        for i in 0..<n { a[i * n + i] += ridge * Double(x.rows) }
        var weights = Matrix(rows: n, cols: k)
        for c in 0..<k {
            var b = [Double](repeating: 0, count: n)
            for r in 0..<x.rows where labels[r] == c { for i in 0..<n { b[i] += target * x[r, i] } }
            var m = a
            guard DenseSolve.solve(n: n, a: &m, b: &b) else {
                throw .invalidConfig("the digital ceiling's least-squares system is singular")
            }
            for i in 0..<n { weights[i, c] = b[i] }
        }
        return weights
    }

    /// Mean cross-entropy + ridge/2 ‖W‖² for logits X W (W is n × k).
    static func objective(_ x: Matrix, _ w: Matrix, labels: [Int], ridge: Double) -> Double {
        let z = Matrix.product(x, w)
        var total = 0.0
        for r in 0..<z.rows {
            var m = -Double.infinity
            for c in 0..<z.cols { m = max(m, z[r, c]) }
            var s = 0.0
            for c in 0..<z.cols { s += exp(z[r, c] - m) }
            total += m + log(s) - z[r, labels[r]]
        }
        let reg = w.storage.reduce(0) { $0 + $1 * $1 }
        return total / Double(max(z.rows, 1)) + 0.5 * ridge * reg
    }

    /// Newton's method on the ridge-regularised multinomial logistic loss.
    static func softmaxNewton(_ x: Matrix, labels: [Int], classes k: Int, ridge: Double) throws(TrainingError) -> (
        Matrix, Int
    ) {
        let n = x.cols
        let rows = x.rows
        let inv = 1 / Double(max(rows, 1))
        let p = n * k
        var w = Matrix(rows: n, cols: k)
        var f = objective(x, w, labels: labels, ridge: ridge)
        for iteration in 1...100 {
            let probs = Readout(kind: .softmax, gain: 1, targetCurrent: 0).probabilities(Matrix.product(x, w))
            // Gradient, ordered (class, line): index c·n + i.
            var residual = probs
            for r in 0..<rows { residual[r, labels[r]] -= 1 }
            let g = Matrix.product(x, transposeA: true, residual)  // n × k
            var grad = [Double](repeating: 0, count: p)
            for c in 0..<k { for i in 0..<n { grad[c * n + i] = g[i, c] * inv + ridge * w[i, c] } }
            let gnorm = grad.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if gnorm < 1e-10 { return (w, iteration - 1) }
            // Hessian blocks H[a,b] = Xᵀ diag(p_a (δ_ab − p_b)) X / N (+ ridge on the diagonal).
            var h = [Double](repeating: 0, count: p * p)
            for a in 0..<k {
                for b in a..<k {
                    var weighted = x
                    for r in 0..<rows {
                        let s = probs[r, a] * ((a == b ? 1 : 0) - probs[r, b]) * inv
                        for i in 0..<n { weighted[r, i] *= s }
                    }
                    let block = Matrix.product(x, transposeA: true, weighted)
                    for i in 0..<n {
                        for j in 0..<n {
                            h[(a * n + i) * p + b * n + j] = block[i, j]
                            h[(b * n + j) * p + a * n + i] = block[i, j]
                        }
                    }
                }
            }
            for i in 0..<p { h[i * p + i] += ridge }
            var step = grad
            guard DenseSolve.solve(n: p, a: &h, b: &step) else {
                throw .invalidConfig("the digital ceiling's Newton system is singular")
            }
            // Backtracking: Newton steps are full near the optimum; halve while the loss rises.
            let slope = zip(grad, step).reduce(0.0) { $0 + $1.0 * $1.1 }
            var t = 1.0
            var next = w
            var fNext = f
            for _ in 0..<40 {
                for c in 0..<k { for i in 0..<n { next[i, c] = w[i, c] - t * step[c * n + i] } }
                fNext = objective(x, next, labels: labels, ridge: ridge)
                if fNext <= f - 1e-4 * t * slope { break }
                t *= 0.5
            }
            if fNext >= f && t < 1e-9 { return (w, iteration) }
            w = next
            f = fNext
        }
        return (w, 100)
    }
}

extension Matrix {
    func scaled(by s: Double) -> Matrix { Matrix(rows: rows, cols: cols, storage: storage.map { $0 * s }) }
}
