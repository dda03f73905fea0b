import Foundation
import PNNCore

/// The loss of a regression task (`TaskName.isRegression`): output 0 should equal the
/// sample's target, in the device's own output unit. Loss = ½·mean (y − t)², its gradient
/// (y − t)/n, the Gauss–Newton output step t − y, and the RMS error √mean (y − t)².
public enum RegressionLoss {
    /// ½ mean squared error of output column 0 against `targets`.
    public static func loss(_ outputs: Matrix, targets: [Double]) -> Double {
        guard outputs.rows > 0 else { return 0 }
        var total = 0.0
        for r in 0..<outputs.rows {
            let e = outputs[r, 0] - targets[r]
            total += 0.5 * e * e
        }
        return total / Double(outputs.rows)
    }

    /// ∂(mean loss)/∂y, flattened row-major (only column 0 carries a target).
    public static func gradient(_ outputs: Matrix, targets: [Double]) -> [Double] {
        let n = Double(max(outputs.rows, 1))
        var g = Matrix(rows: outputs.rows, cols: outputs.cols)
        for r in 0..<outputs.rows { g[r, 0] = (outputs[r, 0] - targets[r]) / n }
        return g.storage
    }

    /// The output change a target-referenced (Mode B) step aims for: t − y on column 0.
    public static func outputStep(_ outputs: Matrix, targets: [Double]) -> [Double] {
        var e = Matrix(rows: outputs.rows, cols: outputs.cols)
        for r in 0..<outputs.rows { e[r, 0] = targets[r] - outputs[r, 0] }
        return e.storage
    }

    /// Root-mean-square error of output column 0 against `targets`.
    public static func rmsError(_ outputs: Matrix, targets: [Double]) -> Double {
        (2 * loss(outputs, targets: targets)).squareRoot()
    }
}
