import Foundation
import PNNRuns
import PNNTraining

/// The SVG figures of the seed-002 results section (file names under docs/figures/).
public enum ExperimentFigures {
    public static let blue = "#1f5fbf"
    public static let red = "#c0392b"
    public static let grey = "#555555"
    public static let green = "#2e8b57"

    /// Every figure: D and Ē vs τ (with and without bias), accuracy and hinge loss vs ε,
    /// the 2+1 D(τ) against the theory and its cycles in G-space.
    public static func all(cycle: LimitCycleResult, ring: RingResult, twoPlusOne: TwoPlusOneResult)
        -> [(name: String, svg: String)]
    {
        [
            ("clln-span-vs-tau.svg", span(cycle)), ("clln-error-vs-tau.svg", error(cycle)),
            ("clln-ring-accuracy.svg", ringAccuracy(ring)), ("clln-ring-hinge.svg", ringHinge(ring)),
            ("clln-2plus1-span.svg", twoPlusOneSpan(twoPlusOne)), ("clln-2plus1-cycles.svg", cycles(twoPlusOne)),
        ]
    }

    public static func span(_ r: LimitCycleResult) -> String {
        var c = ExperimentChart(
            title: "Cycle span D vs period τ (4×4 lattice twin)", xTitle: "τ (s)", yTitle: "D (V)", logX: true, logY: true)
        c.series = [
            .init(name: "bias on", x: r.biased.map(\.tau), y: r.biased.map(\.span), color: blue),
            .init(name: "B = 0", x: r.unbiased.map(\.tau), y: r.unbiased.map(\.span), color: grey),
        ]
        if let range = r.linearRange, r.linearSlope.isFinite {
            let anchor = r.biased.first { $0.tau == range.lowerBound }
            if let anchor {
                let xs = [range.lowerBound, range.upperBound]
                c.series.append(
                    .init(
                        name: "fit: slope \(String(format: "%.2f", r.linearSlope))", x: xs,
                        y: xs.map { anchor.span * pow($0 / anchor.tau, r.linearSlope) }, color: red, markers: false))
            }
        }
        return c.render()
    }

    public static func error(_ r: LimitCycleResult) -> String {
        var c = ExperimentChart(title: "Combined error Ē vs period τ", xTitle: "τ (s)", yTitle: "Ē (V²)", logX: true, logY: true)
        c.series = [
            .init(name: "bias on", x: r.biased.map(\.tau), y: r.biased.map(\.combinedError), color: blue),
            .init(name: "B = 0", x: r.unbiased.map(\.tau), y: r.unbiased.map(\.combinedError), color: grey),
        ]
        return c.render()
    }

    public static func ringAccuracy(_ r: RingResult) -> String {
        var c = ExperimentChart(title: "Ring classification accuracy", xTitle: "ε (mV)", yTitle: "accuracy (fraction correct)")
        c.errorBars = errorBars(r)
        c.yLimits = 0...1
        c.series = [RingMethod.overclamping, .standardClamping].map { m in
            let s = r.summary(m)
            return .init(
                name: m == .overclamping ? "overclamping" : "standard clamping", x: s.map(\.radiusMillivolts),
                y: s.map(\.accuracy), yError: s.map(\.accuracyError), color: m == .overclamping ? blue : red)
        }
        return c.render()
    }

    /// Hinge loss on a log axis; zero losses cannot be drawn there and are listed in the table.
    public static func ringHinge(_ r: RingResult) -> String {
        var c = ExperimentChart(
            title: "Ring hinge loss", xTitle: "ε (mV)", yTitle: "hinge loss (V²)", logY: true)
        c.errorBars = errorBars(r)
        let zeros = r.summaries.filter { $0.hingeLoss <= 0 }.count
        if zeros > 0 {
            c.caption = ["\(zeros) zero loss\(zeros == 1 ? "" : "es") cannot be drawn on the log axis; see the table."]
        }
        c.series = [RingMethod.overclamping, .standardClamping].map { m in
            let s = r.summary(m)
            return .init(
                name: m == .overclamping ? "overclamping" : "standard clamping", x: s.map(\.radiusMillivolts),
                y: s.map(\.hingeLoss), yError: s.map(\.hingeLossError), color: m == .overclamping ? blue : red)
        }
        return c.render()
    }

    /// What the ring figures' error bars are: the standard error of the mean over the seeds.
    static func errorBars(_ r: RingResult) -> String {
        let runs = Set(r.summaries.map(\.runs))
        let count = runs.count == 1 ? "\(runs.first!)" : "\(runs.min() ?? 0)–\(runs.max() ?? 0)"
        return "± standard error of the mean over \(count) seeds per point."
    }

    public static func twoPlusOneSpan(_ r: TwoPlusOneResult) -> String {
        var c = ExperimentChart(
            title: "2+1 network: D(τ), simulation vs linear theory", xTitle: "τ (s)", yTitle: "D (V)", logX: true, logY: true)
        c.series = [
            .init(name: "simulation", x: r.points.map(\.tau), y: r.points.map(\.spanSim), color: blue, line: false),
            .init(name: "theory (App. D)", x: r.points.map(\.tau), y: r.points.map(\.spanTheory), color: grey, markers: false),
        ]
        return c.render()
    }

    public static func cycles(_ r: TwoPlusOneResult) -> String {
        var c = ExperimentChart(title: "2+1 network: last period in G-space", xTitle: "G1 (V)", yTitle: "G2 (V)")
        let colors = [blue, red, green, grey]
        for (k, cyc) in r.cycles.enumerated() {
            let label = cyc.tau < 1 ? String(format: "τ = %g ms", cyc.tau * 1e3) : String(format: "τ = %g s", cyc.tau)
            c.series.append(.init(name: label + " (sim)", x: cyc.g1, y: cyc.g2, color: colors[k % colors.count], markers: false))
            if cyc.theoryStart.count == 2, cyc.theoryHalf.count == 2 {
                c.series.append(
                    .init(
                        name: label + " theory corners", x: [cyc.theoryStart[0], cyc.theoryHalf[0]],
                        y: [cyc.theoryStart[1], cyc.theoryHalf[1]], color: colors[k % colors.count], line: false))
            }
        }
        return c.render()
    }
}
