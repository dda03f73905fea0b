import Foundation
import PNNCore
import PNNRuns
import PNNTraining

/// Steady-state figures of a two-task alternation (seed 002, appendix A): the combined
/// error Ē = ½(E(τ/2) + E(τ)) and the cycle span D = ||G(τ/2) − G(τ)||, averaged over the
/// last recorded periods.
public struct LimitCycleSummary: Sendable, Codable, Equatable {
    /// Period τ, seconds.
    public var tau: Double
    /// Combined steady-state error Ē, V².
    public var combinedError: Double
    /// Cycle span D, volts (Euclidean norm over the gate voltages).
    public var span: Double
    /// Standard deviation of D over the periods used (a drifting, unsteady cycle has a large one).
    public var spanSpread: Double
    /// Periods averaged.
    public var periodsUsed: Int
    /// Gates at the end of the last period's first and second slot.
    public var gatesHalf: [Double]
    public var gatesFull: [Double]
}

/// Pure analysis of schedule records.
public enum LimitCycleAnalysis {
    /// Summarises the last `lastPeriods` complete periods (both slot ends recorded) of a
    /// two-task schedule with period `tau`; nil when fewer than one complete period exists.
    public static func summarize(_ records: [ScheduleRecord], tau: Double, lastPeriods: Int = 5) -> LimitCycleSummary? {
        var byPeriod: [Int: [Int: ScheduleRecord]] = [:]
        for r in records where r.kind == .slotEnd { byPeriod[r.period, default: [:]][r.task] = r }
        let complete = byPeriod.keys.sorted().filter { byPeriod[$0]?[0] != nil && byPeriod[$0]?[1] != nil }
        let used = complete.suffix(max(1, lastPeriods))
        guard !used.isEmpty else { return nil }
        var spans: [Double] = []
        var errors: [Double] = []
        for p in used {
            let half = byPeriod[p]![0]!
            let full = byPeriod[p]![1]!
            spans.append(distance(half.gates, full.gates))
            errors.append(0.5 * (half.meanError + full.meanError))
        }
        let meanSpan = spans.reduce(0, +) / Double(spans.count)
        let spread = sqrt(spans.map { ($0 - meanSpan) * ($0 - meanSpan) }.reduce(0, +) / Double(spans.count))
        let last = used.last!
        return LimitCycleSummary(
            tau: tau, combinedError: errors.reduce(0, +) / Double(errors.count), span: meanSpan, spanSpread: spread,
            periodsUsed: used.count, gatesHalf: byPeriod[last]![0]!.gates, gatesFull: byPeriod[last]![1]!.gates)
    }

    /// Euclidean distance.
    public static func distance(_ a: [Double], _ b: [Double]) -> Double {
        sqrt(zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +))
    }

    /// Least-squares line through (log10 x, log10 y): slope, intercept and r².
    public static func fitLogLogSlope(x: [Double], y: [Double]) -> (slope: Double, intercept: Double, r2: Double) {
        let pairs = zip(x, y).filter { $0 > 0 && $1 > 0 && $0.isFinite && $1.isFinite }.map { (log10($0), log10($1)) }
        let n = Double(pairs.count)
        guard n >= 2 else { return (.nan, .nan, .nan) }
        let mx = pairs.map(\.0).reduce(0, +) / n
        let my = pairs.map(\.1).reduce(0, +) / n
        let sxx = pairs.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        let sxy = pairs.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
        let syy = pairs.map { ($0.1 - my) * ($0.1 - my) }.reduce(0, +)
        let slope = sxy / sxx
        return (slope, my - slope * mx, syy > 0 ? (sxy * sxy) / (sxx * syy) : 1)
    }

    /// The widest run of consecutive points (x ascending) whose fitted log-log slope is
    /// within `tolerance` of 1, ending where the curve flattens: its index range and slope.
    public static func linearRegime(x: [Double], y: [Double], tolerance: Double = 0.15) -> (
        range: ClosedRange<Int>, slope: Double
    )? {
        var best: (ClosedRange<Int>, Double)?
        for start in 0..<x.count {
            for end in stride(from: x.count - 1, through: start + 2, by: -1) {
                let fit = fitLogLogSlope(x: Array(x[start...end]), y: Array(y[start...end]))
                guard abs(fit.slope - 1) <= tolerance, fit.r2 > 0.98 else { continue }
                if best == nil || log10(x[end] / x[start]) > log10(x[best!.0.upperBound] / x[best!.0.lowerBound]) {
                    best = (start...end, fit.slope)
                }
                break
            }
        }
        return best.map { (range: $0.0, slope: $0.1) }
    }
}
