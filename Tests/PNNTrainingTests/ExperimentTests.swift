import Foundation
import PNNCore
import PNNSim
import Testing

@testable import PNNDevices
@testable import PNNExperiments
@testable import PNNRuns
@testable import PNNTraining

@Suite("Seed-002 experiments on the CLLN twins")
struct ExperimentTests {
    @Test func miniSweepSpanGrowsWithTauUnderBiasAndVanishesWithout() async throws {
        // The 2+1 network (one free node) keeps this fast; the lattice sweep is in pnnbench --results-clln.
        var config = LimitCycleConfig(taus: [4e-3, 40e-3, 400e-3])
        config.network = .twoPlusOne
        config.minLearnSeconds = 3
        let result = try await LimitCycleExperiment.run(config)
        let d = result.biased.map(\.span)
        #expect(d[0] > 0 && d[0] < d[1] && d[1] < d[2], "biased D(τ) = \(d)")
        let flat = result.unbiased.map(\.span)
        #expect(flat.max()! < 0.05 * d[0], "B = 0 D(τ) = \(flat) vs biased \(d)")
        #expect(result.unbiased.map(\.combinedError).max()! < 1e-3 * result.biased[0].combinedError)
    }

    @Test func latticeSpanGrowsWithTauUnderBias() async throws {
        var config = LimitCycleConfig(taus: [2e-3, 20e-3])
        config.minLearnSeconds = 0.2
        config.minPeriods = 3
        let a = try await LimitCycleExperiment.point(tau: 2e-3, physics: config.physics, config: config)
        let b = try await LimitCycleExperiment.point(tau: 20e-3, physics: config.physics, config: config)
        #expect(a.span > 0 && b.span > 3 * a.span, "D(2 ms) = \(a.span) V, D(20 ms) = \(b.span) V")
    }

    @Test func overclampingClassifiesTheWideRingPerfectly() async throws {
        var config = RingConfig()
        config.learnSeconds = 0.3
        let run = try await RingExperiment.run(method: .overclamping, radiusMillivolts: 417, rotation: 1, config: config)
        #expect(run.accuracy == 1, "accuracy \(run.accuracy), hinge loss \(run.hingeLoss)")
        #expect(run.hingeLoss < 18e-3 * 18e-3)
    }

    /// The ring ceiling: optimising the lattice's gates directly classifies the narrowest ring
    /// (83 mV, split 0) with every point beyond its label, gates inside [0, G_max], and the
    /// reported figures agree with the outputs.
    @Test func theLatticeCanClassifyTheNarrowestRing() async throws {
        var config = RingCeilingConfig()
        config.restarts = 1
        config.iterations = 80
        let run = try RingCeilingExperiment.run(radiusMillivolts: 83, rotation: 0, config: config)
        // Overclamping from these gates keeps the ring classified (with the device's bias).
        let relearned = try await RingCeilingExperiment.relearn(
            from: run.gates, run: run, physics: config.physics, config: config)
        #expect(relearned.accuracy == 1, "after overclamping from the optimum: \(relearned.accuracy)")
        #expect(run.accuracy == 1 && run.bestAccuracySeen == 1)
        #expect(run.hingeLoss < 1e-6, "hinge loss \(run.hingeLoss) V²")
        #expect(run.minimumMarginMillivolts > 15, "margin \(run.minimumMarginMillivolts) mV")
        #expect(run.gates.count == 32 && run.gates.allSatisfy { $0 >= 0 && $0 <= config.physics.gateMax })
        #expect(run.outputs.count == 8)
        #expect(abs(run.outputs.map { abs($0) }.min()! * 1000 - run.minimumMarginMillivolts) < 1e-9)
        // From the lab's 3 V gates the network does not classify the ring: the optimiser did the work.
        let start = try RingCeilingExperiment.run(
            radiusMillivolts: 83, rotation: 0,
            config: {
                var c = config; c.iterations = 1; return c
            }())
        #expect(start.hingeLoss > 1e-5, "hinge loss at the start \(start.hingeLoss) V²")
    }

    @Test func twoPlusOneSpanMatchesTheLinearTheoryAtSmallTau() async throws {
        var config = TwoPlusOneConfig()
        config.taus = [5e-3]
        config.cycleTaus = []
        config.minLearnSeconds = 2
        let result = try await TwoPlusOneExperiment.run(config)
        let p = try #require(result.points.first)
        #expect(p.spanTheory > 0)
        #expect(p.relativeError <= 0.2, "D sim \(p.spanSim) V vs theory \(p.spanTheory) V")
    }

    @Test func cycleSummaryAveragesTheLastCompletePeriods() throws {
        func rec(_ period: Int, _ task: Int, _ g: [Double], _ e: [Double]) -> ScheduleRecord {
            ScheduleRecord(
                kind: .slotEnd, period: period, task: task, time: 0, gates: g, outputs: [], errors: e, r0: 0, steps: 0,
                skipped: 0)
        }
        let records = [
            rec(0, 0, [0, 0], [1, 1]), rec(0, 1, [9, 9], [1, 1]),
            rec(5, 0, [0, 0], [0.2, 0.0]), rec(5, 1, [3, 4], [0.0, 0.2]),
            rec(6, 0, [1, 1], [0.4, 0.0]), rec(6, 1, [1, 2], [0.0, 0.0]),
            rec(7, 0, [2, 2], [0, 0]),
        ]
        let s = try CycleSummary.of(records, window: 2, tau: 1)
        #expect(s.periods == 2)
        #expect(abs(s.span - 3) < 1e-12)  // (5 + 1) / 2
        #expect(abs(s.combinedError - 0.1) < 1e-12)  // per period ½(0.1 + 0.1) and ½(0.2 + 0)
        #expect(throws: ExperimentError.self) { try CycleSummary.of(records, window: 4, tau: 1) }
    }

    @Test func linearRangeFitFindsTheProportionalStretchAndThePlateau() throws {
        let taus = Stats.logSpaced(from: 1e-3, to: 10, count: 9)
        let points = taus.map { t in
            LimitCyclePoint(
                tau: t, periods: 1, combinedError: 0, span: min(2 * t, 0.5), spanSpread: 0, wallSeconds: 0)
        }
        let fit = LimitCycleExperiment.linearFit(points)
        let range = try #require(fit.range)
        #expect(abs(fit.slope - 1) < 0.05)  // the knee point (0.316 s, half saturated) is inside
        #expect(log10(range.upperBound / range.lowerBound) >= 2)
        let plateau = LimitCycleExperiment.plateau(points, after: fit.range)
        #expect(plateau != nil && plateau! >= 0.2 && plateau! <= 1.0, "plateau at \(String(describing: plateau))")
    }

    @Test func chartSkipsUnplottablePointsAndEscapesText() {
        var c = ExperimentChart(title: "a < b & c", xTitle: "x", yTitle: "y", logX: true, logY: true)
        c.series = [.init(name: "s", x: [1e-3, 1e-2, -1, 1], y: [1, .nan, 2, 10], color: "#000")]
        let svg = c.render()
        #expect(svg.contains("a &lt; b &amp; c"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(svg.components(separatedBy: "<circle cx").count - 1 == 2)
        // x spans three decades (10⁻³ … 1); y one decade (1 … 10), labelled 1, 2, 5, 10.
        #expect(svg.contains(">10⁻³<") && svg.contains(">10⁻²<") && svg.contains(">5<") && svg.contains(">10<"))
        #expect(!svg.contains(">1e"))
    }
}

@Suite("Linear cycle theory: matrix exponential and flow")
struct LinearCycleTheoryTests {
    @Test func expmMatchesADiagonalisableCase() {
        // M = P diag(1, 3) P⁻¹ with P = [[1, 1], [1, -1]] → M = [[2, -1], [-1, 2]].
        let m = Matrix([[2, -1], [-1, 2]])
        let e = LinearCycleTheory.expm(-0.7 * m)
        let a = exp(-0.7)
        let b = exp(-2.1)
        let expected = [(a + b) / 2, (a - b) / 2, (a - b) / 2, (a + b) / 2]
        for (x, y) in zip(e.storage, expected) { #expect(abs(x - y) < 1e-12) }
    }

    @Test func flowIntegralHandlesASingularMatrix() {
        // M with a null direction: ∫₀ᵗ e^{−Ms} ds = t along the null direction, (1 − e^{−λt})/λ along the other.
        let m = Matrix([[4, 0], [0, 0]])
        let (fa, fphi) = LinearCycleTheory.propagator(m, t: 0.5)
        #expect(abs(fphi[0, 0] - (1 - exp(-2)) / 4) < 1e-12)
        #expect(abs(fphi[1, 1] - 0.5) < 1e-12)
        #expect(abs(fa[0, 0] - exp(-2)) < 1e-12 && abs(fa[1, 1] - 1) < 1e-12)
    }
}
