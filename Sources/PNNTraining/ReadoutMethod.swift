import Foundation
import PNNCore

/// The sufficient statistics of a ridge regression onto one-hot class targets, accumulated
/// from feature rows as they are measured (nothing but the F×F Gram matrix is kept, so a
/// 60 000-sample training split of 4096 camera features costs 134 MB, not 2 GB).
public struct RidgeAccumulator: Sendable {
    public let features: Int
    public let classes: Int
    public private(set) var count = 0
    var sum: [Double]
    /// XᵀX.
    var gram: Matrix
    /// XᵀY with Y one-hot.
    var cross: Matrix
    var classCounts: [Double]

    public init(features: Int, classes: Int) {
        self.features = features
        self.classes = classes
        sum = Array(repeating: 0, count: features)
        gram = Matrix(rows: features, cols: features)
        cross = Matrix(rows: features, cols: classes)
        classCounts = Array(repeating: 0, count: classes)
    }

    /// Adds feature rows `x` with their labels.
    public mutating func add(_ x: Matrix, labels: [Int]) {
        precondition(x.cols == features && x.rows == labels.count, "one label per feature row")
        Matrix.gemm(x, transposeA: true, x, beta: 1, into: &gram)
        var y = Matrix(rows: x.rows, cols: classes)
        for (r, l) in labels.enumerated() {
            y[r, l] = 1
            classCounts[l] += 1
        }
        Matrix.gemm(x, transposeA: true, y, beta: 1, into: &cross)
        for r in 0..<x.rows { for c in 0..<features { sum[c] += x[r, c] } }
        count += x.rows
    }

    /// Adds another accumulator's samples (same shape).
    public mutating func merge(_ other: RidgeAccumulator) {
        precondition(other.features == features && other.classes == classes, "accumulators of one shape")
        count += other.count
        for i in sum.indices { sum[i] += other.sum[i] }
        for i in gram.storage.indices { gram.storage[i] += other.gram.storage[i] }
        for i in cross.storage.indices { cross.storage[i] += other.cross.storage[i] }
        for i in classCounts.indices { classCounts[i] += other.classCounts[i] }
    }

    /// The ridge readout on standardised features: W = (R + λI)⁻¹ Zᵀ(Y − ȳ)/n with R the
    /// features' correlation matrix; constant features get weight 0.
    public func solve(lambda: Double) throws(LinearAlgebraError) -> LinearReadout {
        let n = Double(max(count, 1))
        let mean = sum.map { $0 / n }
        var scale = [Double](repeating: 1, count: features)
        for i in 0..<features {
            let v = gram[i, i] / n - mean[i] * mean[i]
            scale[i] = v > 1e-12 * max(1, mean[i] * mean[i]) ? v.squareRoot() : .infinity
        }
        var a = Matrix(rows: features, cols: features)
        for i in 0..<features {
            for j in 0..<features {
                let c = gram[i, j] / n - mean[i] * mean[j]
                a[i, j] = scale[i].isFinite && scale[j].isFinite ? c / (scale[i] * scale[j]) : 0
            }
            a[i, i] += lambda
            if !scale[i].isFinite { a[i, i] = 1 }
        }
        let classMean = classCounts.map { $0 / n }
        var b = Matrix(rows: features, cols: classes)
        for i in 0..<features where scale[i].isFinite {
            for k in 0..<classes { b[i, k] = (cross[i, k] / n - mean[i] * classMean[k]) / scale[i] }
        }
        let w = try a.solveSymmetricPositiveDefinite(b)
        return LinearReadout(mean: mean, scale: scale.map { $0.isFinite ? $0 : 1 }, weights: w, bias: classMean)
    }
}

/// A digital linear readout: scores = ((x − mean)/scale)·W + bias; the predicted class is
/// the largest score; probabilities are softmax(temperature · scores).
public struct LinearReadout: Sendable, Codable, Equatable {
    public var mean: [Double]
    public var scale: [Double]
    /// features × classes.
    public var weights: Matrix
    public var bias: [Double]
    /// Softmax temperature fitted on training data (nats are reported at this temperature).
    public var temperature: Double = 1

    /// Class scores per row.
    public func scores(_ x: Matrix) -> Matrix {
        var z = x
        for r in 0..<z.rows { for c in 0..<z.cols { z[r, c] = (z[r, c] - mean[c]) / scale[c] } }
        var s = Matrix.product(z, weights)
        for r in 0..<s.rows { for c in 0..<s.cols { s[r, c] += bias[c] } }
        return s
    }

    /// The readout as weights on raw features with the bias as the last row ((F+1) × classes).
    public var effectiveWeights: Matrix {
        var out = Matrix(rows: weights.rows + 1, cols: weights.cols)
        for c in 0..<weights.cols {
            var b = bias[c]
            for f in 0..<weights.rows {
                out[f, c] = weights[f, c] / scale[f]
                b -= mean[f] * weights[f, c] / scale[f]
            }
            out[weights.rows, c] = b
        }
        return out
    }

    /// Fits `temperature` to minimise the softmax cross-entropy of `scores` (log grid 0.1…100;
    /// separable held-out scores push it to the top of the grid).
    public mutating func calibrate(scores: Matrix, labels: [Int]) {
        var best = (t: 1.0, loss: Double.infinity)
        for i in 0...45 {
            let t = pow(10, -1 + Double(i) / 15)
            let l = Self.crossEntropy(scores, labels: labels, temperature: t)
            if l < best.loss { best = (t, l) }
        }
        temperature = best.t
    }

    /// Mean softmax cross-entropy (nats) at `temperature`.
    public static func crossEntropy(_ s: Matrix, labels: [Int], temperature: Double) -> Double {
        guard s.rows > 0 else { return 0 }
        var total = 0.0
        for r in 0..<s.rows {
            var m = -Double.infinity
            for c in 0..<s.cols { m = max(m, temperature * s[r, c]) }
            var z = 0.0
            for c in 0..<s.cols { z += exp(temperature * s[r, c] - m) }
            total += m + log(z) - temperature * s[r, labels[r]]
        }
        return total / Double(s.rows)
    }
}

/// The digital ceiling a `readout` run prints beside its accuracy: the same ridge readout
/// trained on the substrate's ideal outputs (noise-free, settled: `IdealOutputs`) when it
/// offers them, otherwise on the encoded inputs themselves.
public struct ReadoutCeiling: Sendable, Codable, Equatable {
    /// Test accuracy of the ceiling readout, 0…1.
    public var testAccuracy: Double
    /// `ideal-outputs` or `raw-inputs`.
    public var source: String
    /// What the ideal leaves out, in words.
    public var detail: String
}

/// A ridge readout fitted with λ chosen on held-out rows: fit on `fit` for each λ of the
/// grid, score the held-out rows, keep the λ with the best accuracy (ties: the larger λ),
/// refit on both parts, and fit the softmax temperature on the held-out scores.
struct RidgeSelection {
    static let lambdas = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10]

    var fit: RidgeAccumulator
    var heldOut: RidgeAccumulator
    var heldOutRows: [Matrix] = []
    var heldOutLabels: [Int] = []

    init(features: Int, classes: Int) {
        fit = RidgeAccumulator(features: features, classes: classes)
        heldOut = RidgeAccumulator(features: features, classes: classes)
    }

    /// Adds rows; those flagged by `hold` are held out (and kept).
    mutating func add(_ x: Matrix, labels: [Int], hold: (Int) -> Bool) {
        var keepRows: [Int] = []
        var fitRows: [Int] = []
        for r in 0..<x.rows { if hold(r) { keepRows.append(r) } else { fitRows.append(r) } }
        if !fitRows.isEmpty { fit.add(x.rows(at: fitRows), labels: fitRows.map { labels[$0] }) }
        if !keepRows.isEmpty {
            let kept = x.rows(at: keepRows)
            heldOut.add(kept, labels: keepRows.map { labels[$0] })
            heldOutRows.append(kept)
            heldOutLabels += keepRows.map { labels[$0] }
        }
    }

    /// The final readout, the λ chosen, and the held-out rows' scores under the final readout.
    func solve(readout: Readout) throws(LinearAlgebraError) -> (model: LinearReadout, lambda: Double, heldOutScores: Matrix) {
        let held = Matrix.vstack(heldOutRows)
        var best = (lambda: Self.lambdas[0], accuracy: -1.0, scores: Matrix(rows: 0, cols: 0))
        for lambda in Self.lambdas {
            let model = try fit.solve(lambda: lambda)
            let s = model.scores(held)
            let a = readout.accuracy(s, labels: heldOutLabels)
            if a >= best.accuracy { best = (lambda, a, s) }
        }
        var all = fit
        all.merge(heldOut)
        var model = try all.solve(lambda: best.lambda)
        model.calibrate(scores: best.scores, labels: heldOutLabels)
        return (model, best.lambda, model.scores(held))
    }
}

extension Trainer {
    /// Rows per measure call in the readout method.
    static let readoutChunk = 1024
    /// Largest number of feature values kept for the training accuracy and the softmax temperature.
    static let readoutKeptValues = 40_000_000

    /// The `readout` method's single step: measure the training split once (the physical
    /// map is never changed), fit a ridge readout to the measured outputs (λ chosen from
    /// `RidgeSelection.lambdas` on every 10th training sample, then refitted on all),
    /// calibrate its softmax temperature, measure the test split; fit the same readout to
    /// the ideal outputs (or the raw inputs) for the ceiling. The reported training
    /// accuracy and loss are those of the final readout on the every-10th sample.
    func readoutStep(_ state: inout TrainerState) async throws -> (StepReport, [MeasuredMatrix]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let k = task.classCount
        let features = substrate.descriptor.outputs.count
        let ideal = substrate as? any IdealOutputs
        var measured = RidgeSelection(features: features, classes: k)
        var reference = RidgeSelection(features: ideal != nil ? features : task.trainInputs.cols, classes: k)
        let n = task.train.count
        // Every 10th training sample is held out for choosing λ, up to the memory budget.
        let heldBudget = max(1, Self.readoutKeptValues / max(features, 1))
        var measurements = 0
        let chunk = min(Self.readoutChunk, max(substrate.descriptor.maxBatch, 1))
        for lo in stride(from: 0, to: n, by: chunk) {
            try Task.checkCancellation()
            let hi = min(lo + chunk, n)
            let x = task.trainInputs.rowSlice(lo..<hi)
            let labels = Array(task.train.labels[lo..<hi])
            let hold: (Int) -> Bool = { r in (lo + r) % 10 == 9 && (lo + r) / 10 < heldBudget }
            let y = try await substrate.measure(x)
            measurements += x.rows
            measured.add(y, labels: labels, hold: hold)
            reference.add(ideal != nil ? try await ideal!.idealOutputs(x) : x, labels: labels, hold: hold)
        }
        let (model, _, heldScores) = try measured.solve(readout: readout)
        let trainLoss = LinearReadout.crossEntropy(heldScores, labels: measured.heldOutLabels, temperature: model.temperature)
        let trainAccuracy = readout.accuracy(heldScores, labels: measured.heldOutLabels)
        let ceilingModel = try reference.solve(readout: readout).model

        var testScores: [Matrix] = []
        var ceilingCorrect = 0
        for lo in stride(from: 0, to: task.test.count, by: chunk) {
            try Task.checkCancellation()
            let hi = min(lo + chunk, task.test.count)
            let x = task.testInputs.rowSlice(lo..<hi)
            testScores.append(model.scores(try await substrate.measure(x)))
            measurements += x.rows
            let r = ideal != nil ? try await ideal!.idealOutputs(x) : x
            let p = readout.predictions(ceilingModel.scores(r))
            ceilingCorrect += zip(p, task.test.labels[lo..<hi]).filter { $0 == $1 }.count
        }
        let scores = Matrix.vstack(testScores)
        let testAccuracy = readout.accuracy(scores, labels: task.test.labels)
        let ceiling = ReadoutCeiling(
            testAccuracy: Double(ceilingCorrect) / Double(max(task.test.count, 1)),
            source: ideal != nil ? "ideal-outputs" : "raw-inputs",
            detail: ideal?.idealOutputsDescription ?? "the same ridge readout on the encoded inputs (no physical projection)")

        state.globalStep += 1
        state.epoch += 1
        state.batchIndex = 0
        state.lastTrainAccuracy = trainAccuracy
        state.lastTestAccuracy = testAccuracy
        state.lastLoss = trainLoss
        state.readoutCeiling = ceiling
        state.cumulativeMeasurements += measurements
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        state.wallSeconds += wall
        let blocks =
            config.recordOutputs
            ? [
                MeasuredMatrix(kind: "readout_weights", matrix: model.effectiveWeights),
                MeasuredMatrix(kind: "test_scores", matrix: scores),
            ] : []
        let report = StepReport(
            step: state.globalStep, epoch: state.epoch, epochs: epochs, batchIndex: 0, batchesPerEpoch: 1, loss: trainLoss,
            trainAccuracy: trainAccuracy, testAccuracy: testAccuracy, trainLoss: trainLoss, measurements: measurements,
            cumulativeMeasurements: state.cumulativeMeasurements, wallSeconds: wall, runWallSeconds: state.wallSeconds)
        return (report, blocks)
    }
}
