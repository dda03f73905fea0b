import Foundation
import PNNCore
import PNNRuns
import PNNSim
import PNNTraining

/// Which CLLN network a limit-cycle sweep runs on.
public enum LimitCycleNetwork: String, Sendable, Codable, CaseIterable {
    /// The 4×4 periodic lattice board with the Fig. 1E two-task regression.
    case lattice
    /// The 2+1-edge network with the Fig. 2B task pair (fast: one free node).
    case twoPlusOne

    public var topology: NetworkTopology { self == .lattice ? .periodicLattice() : .twoPlusOne }
    public var task: ContrastiveTaskName { self == .lattice ? .twoTask : .fig2b }
}

/// Settings of the seed-002 Fig. 1 limit-cycle sweep: two-task regression on the 4×4
/// lattice twin, standard clamping, alternating tasks with period τ.
public struct LimitCycleConfig: Sendable, Codable, Equatable {
    /// Periods τ to run, seconds.
    public var taus: [Double]
    /// Standard-clamping nudge η.
    public var eta: Double = 1
    /// Time per data point t_h, seconds (seed: 100 µs).
    public var stepSeconds: Double = 100e-6
    /// Each τ learns for at least this long, seconds …
    public var minLearnSeconds: Double = 30
    /// … and for at least this many periods.
    public var minPeriods: Int = 4
    /// Steady-state window: the last n periods are recorded and averaged.
    public var window: Int = 2
    /// Device seed (per-edge A0 spread and bias B).
    public var seed: UInt64 = 1
    /// Physics of the biased board; the unbiased run uses the same with biasScale 0.
    public var physics: CLLNPhysics = CLLNPhysics()
    /// Network and its task pair (default: the lattice with seed Fig. 1E's two-task regression).
    public var network: LimitCycleNetwork = .lattice

    public init(taus: [Double]) { self.taus = taus }

    /// The full sweep: 12 log-spaced τ from 2 ms to 30 s (quick: 5 from 2 ms to 3 s).
    public static func standard(quick: Bool) -> LimitCycleConfig {
        var c = LimitCycleConfig(
            taus: quick ? Stats.logSpaced(from: 2e-3, to: 3, count: 5) : Stats.logSpaced(from: 2e-3, to: 30, count: 12))
        if quick { c.minLearnSeconds = 5 }
        return c
    }

    /// Number of periods for period τ.
    public func periods(tau: Double) -> Int { max(minPeriods, Int((minLearnSeconds / tau).rounded(.up))) }
}

/// Steady state of one τ.
public struct LimitCyclePoint: Sendable, Codable, Equatable {
    public var tau: Double
    public var periods: Int
    public var combinedError: Double
    public var span: Double
    public var spanSpread: Double
    public var wallSeconds: Double
}

/// Result of the sweep with and without bias, and the D ∝ τ fit of the biased branch.
public struct LimitCycleResult: Sendable, Codable, Equatable {
    public var config: LimitCycleConfig
    public var biased: [LimitCyclePoint]
    public var unbiased: [LimitCyclePoint]
    /// Longest run of consecutive τ (biased) over which D ∝ τ (local log-log slope 1 ± 0.15).
    public var linearRange: ClosedRange<Double>?
    /// Least-squares log-log slope of D(τ) over `linearRange`, and its r².
    public var linearSlope: Double
    public var linearR2: Double
    /// Smallest τ beyond the linear range where D stops growing (plateau), if any.
    public var plateauTau: Double?
    /// Total wall time of the sweep, seconds.
    public var wallSeconds: Double

    /// Decades of τ covered by `linearRange`.
    public var linearDecades: Double { linearRange.map { log10($0.upperBound / $0.lowerBound) } ?? 0 }

    /// B = 0 runs with at least this many periods count as settled (alternating tasks
    /// converge per period, so long τ with few periods may still be approaching the fixed point).
    public static let settledPeriods = 100

    /// Largest D(B = 0)/D(bias) at equal τ over the settled B = 0 runs (NaN if none settled).
    public var unbiasedSpanRatio: Double {
        zip(biased, unbiased).filter { $0.1.periods >= Self.settledPeriods }.map { $0.1.span / max($0.0.span, 1e-300) }
            .max() ?? .nan
    }

    /// Largest Ē(B = 0) over the settled B = 0 runs, V².
    public var unbiasedSettledError: Double {
        unbiased.filter { $0.periods >= Self.settledPeriods }.map(\.combinedError).max() ?? .nan
    }

    /// Largest τ whose B = 0 run counts as settled.
    public var unbiasedSettledTau: Double { unbiased.filter { $0.periods >= Self.settledPeriods }.map(\.tau).max() ?? .nan }
}

/// The seed-002 Fig. 1G–H experiment on the lattice twin (see `LimitCycleConfig`).
public enum LimitCycleExperiment {
    /// One τ on a fresh twin: run `periods(tau:)` periods, record the last `window`, average.
    public static func point(tau: Double, physics: CLLNPhysics, config: LimitCycleConfig) async throws -> LimitCyclePoint {
        let watch = Stopwatch()
        let topology = config.network.topology
        let twin: CLLNTwin
        do { twin = try CLLNTwin(topology: topology, physics: physics, seed: config.seed) } catch {
            throw ExperimentError.device(error.description)
        }
        let dataset: ContrastiveDataset
        do {
            dataset = try ContrastiveTasks.dataset(
                ContrastiveTaskSpec(name: config.network.task, radiusMillivolts: nil, rotation: nil), topology: topology)
        } catch { throw ExperimentError.task(error.description) }
        let periods = config.periods(tau: tau)
        let schedule = ContrastiveSchedule(
            method: .coupled, eta: config.eta, stepSeconds: config.stepSeconds, periodSeconds: tau, periods: periods,
            recordEvery: periods + 1, recordTail: config.window)
        let records = await twin.collectRecords(schedule, dataset: dataset)
        let s = try CycleSummary.of(records, window: config.window, tau: tau)
        return LimitCyclePoint(
            tau: tau, periods: periods, combinedError: s.combinedError, span: s.span, spanSpread: s.spanSpread,
            wallSeconds: watch.seconds)
    }

    /// The biased sweep and the B = 0 sweep, run concurrently (two cores).
    public static func run(_ config: LimitCycleConfig) async throws -> LimitCycleResult {
        guard !config.taus.isEmpty, config.taus.allSatisfy({ $0 >= config.stepSeconds }) else {
            throw ExperimentError.badParameter("every τ must be at least one step (\(config.stepSeconds) s)")
        }
        let watch = Stopwatch()
        var flat = config.physics
        flat.biasScale = 0
        async let biased = sweep(config, physics: config.physics)
        async let unbiased = sweep(config, physics: flat)
        let b = try await biased
        let u = try await unbiased
        let fit = linearFit(b)
        return LimitCycleResult(
            config: config, biased: b, unbiased: u, linearRange: fit.range, linearSlope: fit.slope, linearR2: fit.r2,
            plateauTau: plateau(b, after: fit.range), wallSeconds: watch.seconds)
    }

    static func sweep(_ config: LimitCycleConfig, physics: CLLNPhysics) async throws -> [LimitCyclePoint] {
        var out: [LimitCyclePoint] = []
        for tau in config.taus { out.append(try await point(tau: tau, physics: physics, config: config)) }
        return out
    }

    /// The widest run of consecutive τ (widest in decades) over which the least-squares
    /// log-log slope of D(τ) is 1 ± 0.15 with r² ≥ 0.95 — "D ∝ τ" as the issue fits it — and
    /// with no flat step (neighbour slope ≤ 0.5) inside, and that slope.
    static func linearFit(_ points: [LimitCyclePoint]) -> (range: ClosedRange<Double>?, slope: Double, r2: Double) {
        let usable = points.filter { $0.span > 0 && $0.span.isFinite }
        guard usable.count >= 3 else { return (nil, .nan, .nan) }
        var best: (range: ClosedRange<Double>, fit: LogLogFit)?
        for a in 0..<(usable.count - 2) {
            for b in (a + 2)..<usable.count {
                let run = Array(usable[a...b])
                // No flat stretch inside: a plateau point is not part of D ∝ τ.
                let steps = zip(run, run.dropFirst()).map { log10($1.span / $0.span) / log10($1.tau / $0.tau) }
                guard steps.allSatisfy({ $0 > 0.5 }) else { continue }
                let fit = LogLogFit(x: run.map(\.tau), y: run.map(\.span))
                guard abs(fit.slope - 1) <= 0.15, fit.r2 >= 0.95 else { continue }
                let width = log10(run.last!.tau / run.first!.tau)
                if best == nil || width > log10(best!.range.upperBound / best!.range.lowerBound) + 1e-12 {
                    best = (run.first!.tau...run.last!.tau, fit)
                }
            }
        }
        guard let best else { return (nil, .nan, .nan) }
        return (best.range, best.fit.slope, best.fit.r2)
    }

    /// First τ after the linear range from which D stays flat: every larger τ has D within
    /// a factor 1.5 of it (growth of at most 1.5× over the rest of the sweep).
    static func plateau(_ points: [LimitCyclePoint], after range: ClosedRange<Double>?) -> Double? {
        guard let range else { return nil }
        let tail = points.filter { $0.tau >= range.upperBound }
        guard tail.count >= 2 else { return nil }
        for i in 0..<(tail.count - 1) where tail[(i + 1)...].allSatisfy({ $0.span <= 1.5 * tail[i].span }) {
            return tail[i].tau
        }
        return nil
    }
}

/// Least-squares fit of log10 y = slope · log10 x + intercept.
struct LogLogFit {
    var slope: Double
    var intercept: Double
    var r2: Double

    init(x: [Double], y: [Double]) {
        let lx = x.map(log10)
        let ly = y.map(log10)
        let mx = Stats.mean(lx)
        let my = Stats.mean(ly)
        let sxy = zip(lx, ly).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = lx.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let syy = ly.reduce(0) { $0 + ($1 - my) * ($1 - my) }
        slope = sxx > 0 ? sxy / sxx : .nan
        intercept = my - slope * mx
        r2 = sxx > 0 && syy > 0 ? sxy * sxy / (sxx * syy) : 1
    }
}
