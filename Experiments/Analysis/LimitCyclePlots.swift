import Foundation
import PNNCore
import PNNRuns
import PNNTraining

/// SVG figures of limit-cycle runs (seed 002 Fig. 1D/F–H and 2F–G).
public enum LimitCyclePlots {
    /// E_α and E_β against learning time.
    public static func errors(_ run: ContrastiveRun) -> String {
        var chart = ExperimentChart(
            title: "Run \(run.runID): task errors", xTitle: "learning time (s)", yTitle: "E (V²)", logY: true)
        let ends = run.records.filter { $0.kind != .trace }
        let names = (try? ContrastiveTasks.points(run.plan.task).map(\.name)) ?? []
        let colors = [ExperimentFigures.blue, ExperimentFigures.red, ExperimentFigures.green]
        for t in 0..<(ends.first?.errors.count ?? 0) {
            chart.series.append(
                .init(
                    name: t < names.count ? "E \(names[t])" : "E \(t)", x: ends.map(\.time), y: ends.map { $0.errors[t] },
                    color: colors[t % colors.count], markers: false))
        }
        return chart.render()
    }

    /// The cycle in G-space (G1 against G2) of a 2-edge network: the last recorded periods'
    /// slot ends and the trace of the last period. Nil for other networks.
    public static func cycle(_ run: ContrastiveRun) -> String? {
        let points = (run.records.filter { $0.kind == .slotEnd } + run.traces).sorted { $0.time < $1.time }
        guard let first = points.first, first.gates.count == 2 else { return nil }
        let tail = Array(points.suffix(400))
        var chart = ExperimentChart(title: "Run \(run.runID): cycle in G-space", xTitle: "G1 (V)", yTitle: "G2 (V)")
        chart.series.append(
            .init(name: "trajectory", x: tail.map { $0.gates[0] }, y: tail.map { $0.gates[1] }, color: ExperimentFigures.grey))
        let ends = tail.filter { $0.kind == .slotEnd }
        chart.series.append(
            .init(
                name: "end of α (t = τ/2)", x: ends.filter { $0.task == 0 }.map { $0.gates[0] },
                y: ends.filter { $0.task == 0 }.map { $0.gates[1] }, color: ExperimentFigures.blue, line: false))
        chart.series.append(
            .init(
                name: "end of β (t = τ)", x: ends.filter { $0.task == 1 }.map { $0.gates[0] },
                y: ends.filter { $0.task == 1 }.map { $0.gates[1] }, color: ExperimentFigures.red, line: false))
        return chart.render()
    }

    /// Cycle span D against τ (log-log).
    public static func spanVersusTau(_ s: [LimitCycleSummary]) -> String {
        var chart = ExperimentChart(title: "Cycle span D against τ", xTitle: "τ (s)", yTitle: "D (V)", logX: true, logY: true)
        chart.series.append(.init(name: "D", x: s.map(\.tau), y: s.map(\.span), color: ExperimentFigures.blue))
        return chart.render()
    }

    /// Combined error Ē against τ (log-log).
    public static func errorVersusTau(_ s: [LimitCycleSummary]) -> String {
        var chart = ExperimentChart(
            title: "Combined error Ē against τ", xTitle: "τ (s)", yTitle: "Ē (V²)", logX: true, logY: true)
        chart.series.append(.init(name: "Ē", x: s.map(\.tau), y: s.map(\.combinedError), color: ExperimentFigures.red))
        return chart.render()
    }
}
