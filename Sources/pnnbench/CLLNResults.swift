import Foundation
import PNNCore
import PNNDevices
import PNNExperiments
import PNNRuns
import PNNTraining

/// The "CLLN (seed 002)" results section: runs the limit-cycle sweep, the ring
/// classification and the 2+1-edge comparison with the linear theory on the CLLN twins,
/// writes the SVG figures into docs/figures/ and returns the Markdown section.
enum CLLNResults {
    static let figureDirectory = "docs/figures"

    static func run(quick: Bool) async throws -> String {
        let watch = ContinuousClock.now
        log("CLLN limit-cycle sweep (\(quick ? "quick" : "full"))…")
        let cycle = try await LimitCycleExperiment.run(.standard(quick: quick))
        log("  done in \(f(cycle.wallSeconds, 1)) s; ring classification…")
        let ring = try await RingExperiment.run(.standard(quick: quick))
        log("  done in \(f(ring.wallSeconds, 1)) s; 2+1 network vs linear theory…")
        let two = try await TwoPlusOneExperiment.run(.standard(quick: quick))
        log("  done in \(f(two.wallSeconds, 1)) s")
        try FileManager.default.createDirectory(atPath: figureDirectory, withIntermediateDirectories: true)
        for figure in ExperimentFigures.all(cycle: cycle, ring: ring, twoPlusOne: two) {
            try figure.svg.write(toFile: "\(figureDirectory)/\(figure.name)", atomically: true, encoding: .utf8)
        }
        let elapsed = ContinuousClock.now - watch
        return render(cycle: cycle, ring: ring, two: two, quick: quick, wall: Double(elapsed.components.seconds))
    }

    static func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    static func f(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    static func e(_ x: Double) -> String { String(format: "%.3g", x) }
    static func ms(_ tau: Double) -> String { tau < 1 ? "\(e(tau * 1e3)) ms" : "\(e(tau)) s" }
    static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
    static func yes(_ b: Bool) -> String { b ? "yes" : "**no**" }

    static func render(cycle: LimitCycleResult, ring: RingResult, two: TwoPlusOneResult, quick: Bool, wall: Double) -> String {
        var md = """
            ## CLLN (seed 002)

            Produced by `.build/release/pnnbench --results-clln\(quick ? " --quick" : "")` (\(f(wall, 0)) s wall on \
            \(ProcessInfo.processInfo.activeProcessorCount) cores). Every number comes from the CLLN twin in PNNSim \
            (`CLLNTwin.runScheduleSync`, the same `ScheduleMachine` a board runs); figures in `docs/figures/`.


            """
        md += targets(cycle: cycle, ring: ring, two: two)
        md += limitCycleSection(cycle)
        md += ringSection(ring)
        md += twoPlusOneSection(two)
        return md
    }

    static func targets(cycle: LimitCycleResult, ring: RingResult, two: TwoPlusOneResult) -> String {
        let slopeOK = abs(cycle.linearSlope - 1) <= 0.15 && cycle.linearDecades >= 2
        let flatOK = cycle.unbiasedSpanRatio < 0.01
        let over = ring.summary(.overclamping)
        let std = ring.summary(.standardClamping)
        let overAll = over.allSatisfy { $0.accuracy >= 1 - 1e-9 }
        let stdSmall = std.min { $0.radiusMillivolts < $1.radiusMillivolts }
        let stdLarge = std.max { $0.radiusMillivolts < $1.radiusMillivolts }
        let degrades = (stdSmall?.accuracy ?? 1) < (stdLarge?.accuracy ?? 0) || (stdSmall?.accuracy ?? 1) < 1
        let theoryOK = two.worstSmallTauError <= two.config.tolerance
        let plateau = cycle.plateauTau.map { "plateau from τ ≈ \(ms($0))" } ?? "no plateau in range"
        return """
            | target | ours | seed's figure | met |
            |---|---|---|---|
            | with bias, D ∝ τ over ≥ 2 decades (slope 1 ± 0.15), then a plateau | slope \(f(cycle.linearSlope, 2)) (r² \(f(cycle.linearR2, 3))) over \(f(cycle.linearDecades, 1)) decades (\(cycle.linearRange.map { "\(ms($0.lowerBound)) – \(ms($0.upperBound))" } ?? "none")); \(plateau) | Fig. 1H: D ∝ τ for decades, rolling off to a plateau at high τ | \(yes(slopeOK && cycle.plateauTau != nil)) |
            | B = 0: fixed point (D, Ē ≈ 0) | settled runs (≥ \(LimitCycleResult.settledPeriods) periods, τ ≤ \(ms(cycle.unbiasedSettledTau))): max D(B=0)/D(bias) = \(e(cycle.unbiasedSpanRatio)), max Ē(B=0) = \(e(cycle.unbiasedSettledError)) V² (biased Ē ≥ \(e(cycle.biased.map(\.combinedError).min() ?? .nan)) V²) | text: a "perfect" network shows only zero-error fixed points | \(yes(flatOK)) |
            | overclamping 100 % on the ring at every ε | \(over.map { "\(Int($0.radiusMillivolts)) mV: \(pct($0.accuracy))" }.joined(separator: ", ")) | Fig. 5B: 0 % classification error at every ε | \(yes(overAll)) |
            | standard clamping degrades as ε shrinks | \(std.map { "\(Int($0.radiusMillivolts)) mV: \(pct($0.accuracy))" }.joined(separator: ", ")) | Fig. 5B: accuracy falls as ε shrinks | \(yes(degrades)) |
            | 2+1 network: D_sim vs linear theory within \(Int(two.config.tolerance * 100)) % for τ ≤ \(ms(two.config.smallTau)) | worst \(pct(two.worstSmallTauError)) | Fig. 2E: model with no free parameters matches D(τ) | \(yes(theoryOK)) |


            """
    }

    static func limitCycleSection(_ r: LimitCycleResult) -> String {
        var md = """
            ### Limit cycles under bias (seed Fig. 1G–H)

            Two-task regression (Fig. 1E data) on the 4×4 periodic lattice twin, standard clamping η = \(f(r.config.eta, 2)), \
            t_h = \(e(r.config.stepSeconds * 1e6)) µs; each τ learns ≥ \(e(r.config.minLearnSeconds)) s and ≥ \(r.config.minPeriods) \
            periods from the initial gates, and the last \(r.config.window) periods are averaged. Sweep wall time \(f(r.wallSeconds, 1)) s \
            (biased and B = 0 runs concurrently).

            | τ | periods | D (bias) | Ē (bias) | D (B = 0) | Ē (B = 0) | wall (bias) |
            |---|---|---|---|---|---|---|

            """
        for (b, u) in zip(r.biased, r.unbiased) {
            md +=
                "| \(ms(b.tau)) | \(b.periods) | \(e(b.span)) V | \(e(b.combinedError)) V² | \(e(u.span)) V | \(e(u.combinedError)) V² | \(f(b.wallSeconds, 1)) s |\n"
        }
        md += """

            Seed Fig. 1H: "for many decades, D ∝ τ … This scaling rolls off and D plateaus at high τ." Ours: fitted \
            log-log slope \(f(r.linearSlope, 2)) over \(f(r.linearDecades, 1)) decades\(r.plateauTau.map { ", plateau from τ ≈ \(ms($0))" } ?? ", no plateau inside the sweep").

            ![D vs τ](figures/clln-span-vs-tau.svg) ![Ē vs τ](figures/clln-error-vs-tau.svg)


            """
        return md
    }

    static func ringSection(_ r: RingResult) -> String {
        var md = """
            ### Overclamping vs standard clamping on the ring (seed Fig. 5)

            8 points on a ring of diameter ε centred at ((V+ + V−)/2, (V+ + V−)/2), labels ±18 mV, τ = \(e(r.config.periodSeconds * 1e6)) µs, \
            \(e(r.config.learnSeconds)) s of learning per run, mean ± standard error over \(r.config.rotations.count) rotations. \
            Overclamping: η = 0.25, L0 = 0.435 V, t_h = r0 |δ|, hinge; standard: η = 1, t_h = 100 µs, hinge. Wall time \(f(r.wallSeconds, 1)) s.

            | ε | overclamping accuracy | overclamping hinge loss | standard accuracy | standard hinge loss |
            |---|---|---|---|---|

            """
        for (o, s) in zip(r.summary(.overclamping), r.summary(.standardClamping)) {
            md +=
                "| \(Int(o.radiusMillivolts)) mV | \(pct(o.accuracy)) ± \(pct(o.accuracyError)) | \(e(o.hingeLoss)) ± \(e(o.hingeLossError)) V² | \(pct(s.accuracy)) ± \(pct(s.accuracyError)) | \(e(s.hingeLoss)) ± \(e(s.hingeLossError)) V² |\n"
        }
        md += """

            Seed Fig. 5B–C: overclamping succeeds (0 % classification error) with a lower hinge loss; standard clamping \
            "learns passably when input values are widely separated, but as the diameter ε … shrinks, performance rapidly degrades".

            Why ours falls short at the narrowest ring (issue 14, lab layout, per rotation 0…7 at ε = 83 mV, 1 s): \
            overclamping 25, 25, 50, 75, 100, 100, 75, 50 % with the bias, 75, 25, 100, 100, 75, 50, 50, 100 % with B = 0 — \
            the bias is not the main cause; with B = 0 and 4 s of learning rotations 0, 1, 5, 6 reach 50, 25, 50, 50 % \
            (1 s: 75, 25, 50, 50 %), and with the bias and 4 s rotations 0, 1, 2, 7 reach 12.5, 25, 50, 50 % (1 s: 25, 25, 50, 50 %), so neither is learning time. With B = 0 the hinge loss stays at 3–5e-4 V², about (18 mV)², \
            what outputs near 0 would give. Not yet shown, the likeliest reading: the points 15.9 mV from the split need \
            a gain of 1.13 across it, which the passive lattice reaches only with some edges almost off, and the \
            alternating pushes of the two classes balance where both outputs are small.

            ![accuracy vs ε](figures/clln-ring-accuracy.svg) ![hinge loss vs ε](figures/clln-ring-hinge.svg)


            """
        return md
    }

    static func twoPlusOneSection(_ r: TwoPlusOneResult) -> String {
        var md = """
            ### The 2+1-edge network against the linear theory (seed Fig. 2, appendix D)

            Fig. 2B tasks (α: V1 = V+, L = 0.31 V; β: V1 = V−, L = 0.14 V), bias B = (\(r.config.bias.map { f($0, 2) }.joined(separator: ", "))) V/s \
            (seed App. E), A0 = \(e(r.config.learningRate)) /(V·s) (γ = 2.4e6 Ω/s), η = \(f(r.config.eta, 2)). Theory: `LinearCycleTheory` \
            (eqs. D8–D11 around the joint solution G*). Wall time \(f(r.wallSeconds, 1)) s.

            | τ | D sim | D theory | rel. error | Ē sim | Ē theory |
            |---|---|---|---|---|---|

            """
        for p in r.points {
            md +=
                "| \(ms(p.tau)) | \(e(p.spanSim)) V | \(e(p.spanTheory)) V | \(pct(p.relativeError)) | \(e(p.combinedErrorSim)) V² | \(e(p.combinedErrorTheory)) V² |\n"
        }
        md += """

            Seed Fig. 2E: "model predictions with no free parameters" track the measured D(τ) (linear at small τ, cut off \
            at G_max). Ours: worst relative error \(pct(r.worstSmallTauError)) for τ ≤ \(ms(r.config.smallTau)).

            ![D sim vs theory](figures/clln-2plus1-span.svg) ![cycles in G-space](figures/clln-2plus1-cycles.svg)

            """
        return md
    }
}
