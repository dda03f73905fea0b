import Foundation
import PNNCalibration
import PNNCore

/// What the loopback procedure measured.
public struct LoopbackCalibrationResult: Sendable, Codable, Equatable {
    /// The gain error g in y = g·θ·x (least squares over every read).
    public var gain: Double
    /// θ values used and reads per θ.
    public var thetas: [Double]
    public var reads: Int
}

/// A trivial calibration: sets θ to a few values, measures a known input a couple of times
/// and fits the board's gain error g, through the checked `Substrate` entry points only.
public struct LoopbackCalibration: CalibrationProcedure {
    public let name = "loopback-gain"
    public let version = 1
    public let summary = "gain error g of y = g·θ·x from a couple of reads"
    public var options: [FamilyOption] {
        [FamilyOption("reads", .integer(1...1_000), help: "Reads per θ value (default 2).")]
    }
    /// Reads per θ value.
    public var reads = 2

    public init() {}

    public func configured(_ values: FamilyOptionValues) throws -> LoopbackCalibration {
        var out = self
        if let n = values.integer("reads") { out.reads = n }
        return out
    }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        let d = substrate.descriptor
        let p = d.parameters
        let thetas = [p.lower[0] + 0.25 * (p.upper[0] - p.lower[0]), p.lower[0] + 0.75 * (p.upper[0] - p.lower[0])]
        let x = Matrix(rows: 1, cols: d.inputs.count, storage: [Double](repeating: 0.5 * d.inputs.upper, count: d.inputs.count))
        var sxy = 0.0
        var sxx = 0.0
        for (k, theta) in thetas.enumerated() {
            let held = try await substrate.setParameters([theta])[0]
            for _ in 0..<reads {
                let y = try await substrate.measure(x)
                for i in 0..<x.cols {
                    let model = held * x[0, i]
                    sxy += model * y[0, i]
                    sxx += model * model
                }
            }
            progress(k + 1, thetas.count, "θ = \(theta)")
        }
        guard sxx > 0 else { throw CalibrationError.measurementFailed("no signal: every model output was 0") }
        let result = LoopbackCalibrationResult(gain: sxy / sxx, thetas: thetas, reads: reads)
        return CalibrationProfile(
            identity: d.identity, procedure: name, procedureVersion: version, summary: ["gain": result.gain],
            payload: try JSONValue(encoding: result, snakeCase: true))
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let t = try JSONDecoder().decode(LoopbackTruth.self, from: truth)
        let r = try profile.payload(LoopbackCalibrationResult.self, for: profile.identity)
        let error = (r.gain - t.gain) / t.gain
        return [
            CalibrationFigure(
                key: "gain_relative_error", label: "gain error (rel.)", value: error,
                display: String(format: "%.3g %%", error * 100)),
            CalibrationFigure(
                key: "gain_true", label: "true gain", value: t.gain, display: String(format: "%.5f", t.gain)),
        ]
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(LoopbackCalibrationResult.self, for: profile.identity)
        return [CalibrationFigure(key: "gain", label: "gain", value: r.gain, display: String(format: "%.5f", r.gain))]
    }
}
