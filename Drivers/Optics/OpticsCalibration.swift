import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// What the settle calibration found: the fitted step response and the settle time.
public struct OpticsSettleResult: Sendable, Codable, Equatable {
    /// Delay t0 before the crystal moves, s.
    public var settleDelaySeconds: Double
    /// Time constant b, s.
    public var settleTauSeconds: Double
    /// t0 + 4b, s.
    public var settleTimeSeconds: Double
    /// Delays of the fine scan, s, and the response there (0: old pattern, 1: new pattern).
    public var delaysSeconds: [Double]
    public var response: [Double]
    /// RMS residual of the fit.
    public var residual: Double
}

/// The SLM's settle time from a step response, as slmsuite measures it: the trainable
/// region steps by a few grey levels (a small phase change, so the camera's response is
/// linear in the crystal's progress), frames are taken at `delays` delays after the change,
/// each frame is projected on the difference between the settled new and old frames, and
/// y(t) = c − a·e^{−(t−t0)/b} (y = c − a before t0) is fitted; settle = t0 + 4b. A coarse
/// scan over 0–200 ms finds the scale, a fine scan over 0–1.5× the coarse settle time
/// measures it. Works on `sim:optics` (the rig over links is not built yet).
public struct OpticsSettleCalibration: CalibrationProcedure {
    public var name: String { "optics-settle" }
    public var version: Int { 1 }
    public var summary: String { "SLM settle time t0 + 4b from a step response seen by the camera" }
    public var options: [FamilyOption] {
        [
            FamilyOption("delays", .integer(8...200), help: "Delays per scan (default 21, as slmsuite)."),
            FamilyOption("repeats", .integer(1...64), help: "Frames averaged per delay (default 4)."),
        ]
    }
    public var delayCount = 21
    public var repeats = 4
    /// Grey-level step of the trainable region.
    public var step = 12
    /// Exposure of the scan frames, µs (short, to resolve the response).
    public var exposure = 100.0

    public init() {}

    public func configured(_ values: FamilyOptionValues) throws -> OpticsSettleCalibration {
        var out = self
        if let n = values.integer("delays") { out.delayCount = n }
        if let n = values.integer("repeats") { out.repeats = n }
        return out
    }

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        guard let twin = substrate as? OpticsTwin else {
            throw CalibrationError.measurementFailed(
                "the settle calibration needs sim:optics (the optics rig over links is not built)")
        }
        let p = twin.descriptor.parameters.count
        guard p > 0 else { throw CalibrationError.measurementFailed("the twin has no trainable macro-pixels to step") }
        let from = [UInt8](repeating: 96, count: p)
        let to = [UInt8](repeating: UInt8(96 + step), count: p)
        let ends = try await twin.stepResponse(from: from, to: to, delays: [0, 1], exposure: exposure, repeats: 4 * repeats)
        let (old, new) = (ends[0], ends[1])
        func scan(upTo span: Double, _ what: String, _ k: Int) async throws -> (delays: [Double], y: [Double]) {
            progress(k, 2, what)
            let delays = (0..<delayCount).map { span * Double($0) / Double(delayCount - 1) }
            let frames = try await twin.stepResponse(from: from, to: to, delays: delays, exposure: exposure, repeats: repeats)
            return (delays, frames.map { Self.project($0, old: old, new: new) })
        }
        let coarse = try await scan(upTo: 0.2, "coarse scan 0–200 ms", 0)
        let rough = Self.fit(coarse.delays, coarse.y)
        let fine = try await scan(upTo: max(1.5 * (rough.t0 + 4 * rough.b), 1e-3), "fine scan", 1)
        let f = Self.fit(fine.delays, fine.y)
        progress(2, 2, "fitted")
        let result = OpticsSettleResult(
            settleDelaySeconds: f.t0, settleTauSeconds: f.b, settleTimeSeconds: f.t0 + 4 * f.b, delaysSeconds: fine.delays,
            response: fine.y, residual: f.rms)
        return CalibrationProfile(
            identity: twin.descriptor.identity, procedure: name, procedureVersion: version,
            summary: ["settle_time_s": result.settleTimeSeconds, "settle_delay_s": f.t0, "settle_tau_s": f.b],
            payload: try JSONValue(encoding: result))
    }

    /// Progress of a frame from the old to the new pattern: ⟨I − I_old, I_new − I_old⟩ / |I_new − I_old|².
    static func project(_ frame: [Double], old: [Double], new: [Double]) -> Double {
        var num = 0.0
        var den = 0.0
        for i in frame.indices {
            let d = new[i] - old[i]
            num += (frame[i] - old[i]) * d
            den += d * d
        }
        return den > 0 ? num / den : 0
    }

    /// Least-squares fit of y = c − a·g(t), g = 1 before t0 and e^{−(t−t0)/b} after: a grid
    /// over t0 and b with c and a solved exactly at each point.
    public static func fit(_ t: [Double], _ y: [Double]) -> (t0: Double, b: Double, c: Double, a: Double, rms: Double) {
        let span = max(t.last ?? 1, 1e-6)
        var best = (t0: 0.0, b: span, c: 0.0, a: 0.0, sse: Double.infinity)
        for i in 0...120 {
            let t0 = span * Double(i) / 200
            for j in 0...120 {
                let b = span * pow(10, -3 + 3 * Double(j) / 120)
                let g = t.map { $0 < t0 ? 1 : exp(-($0 - t0) / b) }
                let n = Double(t.count)
                let sg = g.reduce(0, +)
                let sgg = g.reduce(0) { $0 + $1 * $1 }
                let sy = y.reduce(0, +)
                let sgy = zip(g, y).reduce(0) { $0 + $1.0 * $1.1 }
                let det = n * sgg - sg * sg
                guard abs(det) > 1e-12 else { continue }
                // y = c + m·g with m = −a.
                let m = (n * sgy - sg * sy) / det
                let c = (sy - m * sg) / n
                let sse = zip(g, y).reduce(0) { $0 + pow($1.1 - c - m * $1.0, 2) }
                if sse < best.sse { best = (t0, b, c, -m, sse) }
            }
        }
        return (best.t0, best.b, best.c, best.a, (best.sse / Double(max(t.count, 1))).squareRoot())
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsSettleResult.self, for: profile.identity)
        let state = try JSONDecoder().decode(OpticsStateDocument.self, from: truth)
        let trueSettle = state.slm.settling ? state.slm.settleDelay + 4 * state.slm.settleTau : 0
        let error = trueSettle > 0 ? (r.settleTimeSeconds - trueSettle) / trueSettle : r.settleTimeSeconds
        return [
            CalibrationFigure(
                key: "settle_time_relative_error", label: "settle time error", value: error,
                display: String(
                    format: "%+.1f %% (fitted %.2f ms, true %.2f ms)", 100 * error, 1000 * r.settleTimeSeconds, 1000 * trueSettle)
            )
        ]
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(OpticsSettleResult.self, for: profile.identity)
        return [
            CalibrationFigure(
                key: "settle_time_s", label: "settle time t0 + 4b", value: r.settleTimeSeconds,
                display: String(format: "%.2f ms", 1000 * r.settleTimeSeconds)),
            CalibrationFigure(
                key: "settle_delay_s", label: "t0", value: r.settleDelaySeconds,
                display: String(format: "%.2f ms", 1000 * r.settleDelaySeconds)),
            CalibrationFigure(
                key: "settle_tau_s", label: "b", value: r.settleTauSeconds,
                display: String(format: "%.2f ms", 1000 * r.settleTauSeconds)),
        ]
    }
}

extension OpticsFamily {
    public static var calibration: (any CalibrationProcedure)? { OpticsSettleCalibration() }
}
