import Foundation
import PNNTraining

/// `pnnbench --mnist1d-csv FILE`: pnnlab's MNIST-1D (training rows, then test rows; label,
/// then the 40 values, full precision) for `scripts/check_mnist1d.py`.
enum MNIST1DExport {
    static func write(to path: String) throws {
        let all = MNIST1D.generate()
        var text = ""
        for i in 0..<all.count {
            let row = (0..<all.featureCount).map { "\(all.features[i, $0])" }
            text += "\(all.labels[i]),\(row.joined(separator: ","))\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
