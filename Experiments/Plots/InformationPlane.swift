import Foundation
import PNNRuns
import PNNStore
import PNNTraining

extension RunPlots {
    /// A PIB run's information plane (seed 003): for every hidden unit, I(X;Z) against
    /// I(Y;Z) after each of its epochs — matrix-based Rényi α = 2 estimates in bits, the mean
    /// over the epoch's batches, as each committed step's checkpoint recorded them. Nil when
    /// the run recorded no such point (not a PIB run, or no hidden epoch committed yet).
    public static func informationPlane(runID: Int64, store: RunStore) throws -> ExperimentChart? {
        let record = try store.run(id: runID)
        guard let plan = DeepPlan.from(json: record.configJSON), plan.method == .pib else { return nil }
        var points: [Int: [(x: Double, y: Double)]] = [:]
        for step in try store.steps(runID: runID) {
            guard let state = try? JSONDecoder().decode(DeepState.self, from: Data(step.checkpointJSON.utf8)) else {
                continue
            }
            if let unit = state.pibUnit, let x = state.iXZ, let y = state.iYZ {
                points[unit, default: []].append((x, y))
            }
            if let xs = state.unitIXZ, let ys = state.unitIYZ {
                for (unit, (x, y)) in zip(xs, ys).enumerated() { points[unit, default: []].append((x, y)) }
            }
        }
        if points.isEmpty { return nil }
        var chart = ExperimentChart(
            title:
                "Run \(runID): information plane (pib\(plan.parallel == true ? " --parallel" : "") on \(plan.task.rawValue), --layers \(plan.layers.map(String.init).joined(separator: ",")))",
            xTitle: "I(X;Z) (bits)", yTitle: "I(Y;Z) (bits)")
        let colors = [blue, red, green, grey]
        for unit in points.keys.sorted() {
            let p = points[unit] ?? []
            chart.series.append(
                .init(
                    name: "unit \(unit + 1) (\(p.count) epoch\(p.count == 1 ? "" : "s"))", x: p.map(\.x), y: p.map(\.y),
                    color: colors[unit % colors.count], markers: true))
        }
        let starts = points.keys.sorted().compactMap { points[$0]?.first }
        chart.series.append(
            .init(name: "first epoch", x: starts.map(\.x), y: starts.map(\.y), color: "#000000", line: false, markers: true))
        chart.caption.append(
            "Each point is one epoch of a hidden unit: I(X;Z) and I(Y;Z) of its activations Z (X the encoded inputs, "
                + "Y the labels), matrix-based Rényi entropy α = 2 in bits, mean over the epoch's batches; the line joins "
                + "epochs in order. The output unit trains on cross-entropy and has no point.")
        return chart
    }

    /// A retraining run's accuracy chart: the earlier run's final test accuracy as a line,
    /// and what step 1 measured (the cascade after the fault, before retraining).
    static func markRetrain(_ chart: inout ExperimentChart, _ retrain: DeepRetrain, store: RunStore) throws {
        if let before = try RunDetail.load(runID: retrain.baseRun, store: store).result.testAccuracy {
            chart.referenceLines.append(
                .init(name: "run \(retrain.baseRun) test \(String(format: "%.3f", before))", y: before, color: grey))
        }
        let broken = retrain.brokenConverters
        chart.caption.append(
            "Retraining units \(retrain.fromUnit)… of run \(retrain.baseRun) from its last parameters"
                + (broken.isEmpty
                    ? "."
                    : " after breaking \(broken.count) ADC column\(broken.count == 1 ? "" : "s") (\(Set(broken.map(\.unit)).count == 1 ? "unit" : "units") \(Set(broken.map(\.unit)).sorted().map(String.init).joined(separator: ", "))).")
                + " Step 1 measures the cascade before any retraining.")
    }
}
