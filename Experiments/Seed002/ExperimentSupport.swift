import Foundation
import PNNCore
import PNNRuns
import PNNSim
import PNNTraining

/// Why a seed-002 experiment could not produce its numbers (one clear line each).
public enum ExperimentError: Error, Equatable, CustomStringConvertible {
    /// The CLLN twin refused the network or its state.
    case device(String)
    /// The task data could not be built for this network.
    case task(String)
    /// A schedule ran but left too few slot-end records to analyse.
    case tooFewRecords(tau: Double, got: Int, needed: Int)
    /// A sweep parameter is unusable.
    case badParameter(String)

    public var description: String {
        switch self {
        case .device(let why): return "CLLN twin refused the experiment: \(why)"
        case .task(let why): return "task data unusable: \(why)"
        case .tooFewRecords(let tau, let got, let needed):
            return "τ = \(tau) s left \(got) complete recorded periods, \(needed) needed for a steady-state average"
        case .badParameter(let why): return "experiment parameter: \(why)"
        }
    }
}

extension CLLNTwin {
    /// Run a schedule with the firmware loop and keep its slot-end and trace records
    /// (the `start` record is dropped: the analyses only need the steady state).
    func collectRecords(_ schedule: ContrastiveSchedule, dataset: ContrastiveDataset) -> [ScheduleRecord] {
        var out: [ScheduleRecord] = []
        runScheduleSync(schedule, dataset: dataset) { record in
            if record.kind != .start { out.append(record) }
            return true
        }
        return out
    }
}

/// Steady-state numbers of a two-task limit cycle measured from slot-end records
/// (seed 002 eq. 4 and A4): per recorded period, E(τ/2), E(τ) and D = ‖G(τ/2) − G(τ)‖.
public struct CycleSummary: Sendable, Codable, Equatable {
    /// Combined error Ē = ½(E(τ/2) + E(τ)) averaged over the window, V².
    public var combinedError: Double
    /// Cycle span D averaged over the window, V.
    public var span: Double
    /// Standard deviation of D over the window, V.
    public var spanSpread: Double
    /// Periods averaged.
    public var periods: Int

    /// Average the last `window` complete periods (both slot ends recorded) of `records`.
    public static func of(_ records: [ScheduleRecord], window: Int, tau: Double) throws(ExperimentError) -> CycleSummary {
        var byPeriod: [Int: (half: ScheduleRecord?, full: ScheduleRecord?)] = [:]
        for r in records where r.kind == .slotEnd {
            var entry = byPeriod[r.period] ?? (nil, nil)
            if r.task == 0 { entry.half = r } else { entry.full = r }
            byPeriod[r.period] = entry
        }
        let complete = byPeriod.keys.sorted().compactMap { p -> (ScheduleRecord, ScheduleRecord)? in
            guard let h = byPeriod[p]?.half, let f = byPeriod[p]?.full else { return nil }
            return (h, f)
        }
        guard complete.count >= max(1, window) else {
            throw .tooFewRecords(tau: tau, got: complete.count, needed: max(1, window))
        }
        let used = complete.suffix(window)
        let errors = used.map { 0.5 * ($0.0.meanError + $0.1.meanError) }
        let spans = used.map { distance($0.0.gates, $0.1.gates) }
        let meanSpan = Stats.mean(spans)
        return CycleSummary(
            combinedError: Stats.mean(errors), span: meanSpan, spanSpread: Stats.standardDeviation(spans),
            periods: used.count)
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }
}

/// Small statistics used by the experiments.
public enum Stats {
    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

    public static func standardDeviation(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let m = mean(x)
        return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
    }

    /// Standard error of the mean.
    public static func standardError(_ x: [Double]) -> Double {
        x.count > 1 ? standardDeviation(x) / Double(x.count).squareRoot() : 0
    }

    /// `count` values spaced evenly in log10 from `low` to `high` (both included).
    public static func logSpaced(from low: Double, to high: Double, count: Int) -> [Double] {
        guard count > 1 else { return [low] }
        let a = log10(low)
        let b = log10(high)
        return (0..<count).map { pow(10, a + (b - a) * Double($0) / Double(count - 1)) }
    }
}

/// Wall-clock timing of an experiment section.
struct Stopwatch {
    let start = ContinuousClock.now
    var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
