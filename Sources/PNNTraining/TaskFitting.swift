import PNNCore

extension PreparedTask {
    /// The task with input lines padded by 0 V lines to `lines` (a board with more rows
    /// than the encoding needs). Throws when the board has too few lines.
    public func fitted(toInputLines lines: Int, device: String) throws -> PreparedTask {
        let have = trainInputs.cols
        if have == lines { return self }
        guard have < lines else {
            throw TrainingError.shapeMismatch(
                "task \(name.rawValue) needs \(have) input lines; device \(device) has \(lines) "
                    + "(use a device with at least \(have) input lines, or a smaller encoding such as encoding = \"linear\")")
        }
        var out = self
        out.trainInputs = trainInputs.paddedColumns(to: lines)
        out.testInputs = testInputs.paddedColumns(to: lines)
        return out
    }
}

extension Matrix {
    func paddedColumns(to cols: Int) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for r in 0..<rows { for c in 0..<self.cols { m[r, c] = self[r, c] } }
        return m
    }
}
