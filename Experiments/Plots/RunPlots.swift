import Foundation
import PNNCore
import PNNRuns
import PNNStore
import PNNTraining

/// What `pnnlab plot` can draw for a stored run.
public enum RunPlotKind: String, Sendable, CaseIterable {
    /// Batch loss per step and evaluation loss per evaluated epoch against the step.
    case loss
    /// The same against the cumulative measurements (input vectors applied).
    case lossMeasurements = "loss-measurements"
    /// Train and test accuracy at every evaluation against the step, with the digital ceiling.
    case accuracy
    /// The same against the cumulative measurements.
    case accuracyMeasurements = "accuracy-measurements"
    /// Crossbar runs: the G+ and G− arrays at a step, stuck devices crossed out.
    case conductance
    /// Singular values of the Jacobians a run recorded (`record_jacobians = true`).
    case jacobian
    /// Contrastive runs: the error of every task against learning time (seed 002 Fig. 1D).
    case errors
    /// Contrastive runs on two edges: the cycle in G-space.
    case cycle
    /// Regression runs (`--task multiply`): output 0 against the target on the test grid.
    case regression
    /// PIB runs: I(X;Z) against I(Y;Z) of every hidden unit over its epochs.
    case informationPlane = "information-plane"

    /// One line for `--help`.
    public var summary: String {
        switch self {
        case .loss: "batch and evaluation loss against step"
        case .lossMeasurements: "batch and evaluation loss against cumulative measurements"
        case .accuracy: "train/test accuracy against step, digital ceiling as a line"
        case .accuracyMeasurements: "train/test accuracy against cumulative measurements"
        case .conductance: "crossbar G+ and G− maps, stuck devices marked"
        case .jacobian: "singular values of recorded Jacobians"
        case .errors: "contrastive runs: task errors against learning time"
        case .cycle: "contrastive 2-edge runs: the cycle in G-space"
        case .regression: "regression runs: output against target on the test grid"
        case .informationPlane: "pib runs: I(X;Z) against I(Y;Z) of every hidden unit over training"
        }
    }
}

/// Why a plot cannot be drawn, in words.
public enum PlotError: Error, Equatable, CustomStringConvertible {
    /// The kind exists but this run has nothing to draw for it.
    case notAvailable(kind: String, run: Int64, why: String)
    /// No calibration with this id is stored.
    case unknownCalibration(id: Int64)
    /// The calibration's procedure has no plot.
    case calibrationNotPlottable(id: Int64, procedure: String)

    public var description: String {
        switch self {
        case .notAvailable(let kind, let run, let why): "no \(kind) plot for run \(run): \(why)"
        case .unknownCalibration(let id): "no stored calibration has id \(id) (see pnnlab calibrate)"
        case .calibrationNotPlottable(let id, let procedure):
            "calibration \(id) was measured with \(procedure); plots exist for crossbar-devices profiles only"
        }
    }
}

/// The SVG plots of stored runs and calibrations (`pnnlab plot`). Every chart says its units
/// on its axes (the same units `show --json` and `export` use) and explains what it leaves out.
public enum RunPlots {
    static let blue = ExperimentFigures.blue
    static let red = ExperimentFigures.red
    static let grey = ExperimentFigures.grey
    static let green = ExperimentFigures.green

    /// The kind drawn when none is asked for.
    public static func defaultKind(runID: Int64, store: RunStore) throws -> RunPlotKind {
        let record = try store.run(id: runID)
        if ContrastivePlan.from(json: record.configJSON) != nil { return .errors }
        return (try? RunPlan.from(json: record.configJSON))?.task.isRegression == true ? .regression : .accuracy
    }

    /// Plot `kind` of run `runID` as SVG; `step` picks the step of a conductance map (default: the last).
    public static func render(_ kind: RunPlotKind, runID: Int64, store: RunStore, step: Int? = nil) async throws -> String {
        let record = try store.run(id: runID)
        let contrastive = ContrastivePlan.from(json: record.configJSON) != nil
        func unavailable(_ why: String) -> PlotError { .notAvailable(kind: kind.rawValue, run: runID, why: why) }
        switch kind {
        case .loss, .lossMeasurements, .accuracy, .accuracyMeasurements:
            let detail = try RunDetail.load(runID: runID, store: store)
            let steps = try store.steps(runID: runID)
            if steps.isEmpty { throw unavailable("it has no committed step yet") }
            if kind == .loss || kind == .lossMeasurements {
                return lossChart(detail, steps: steps, againstMeasurements: kind == .lossMeasurements).render()
            }
            if detail.evaluations.allSatisfy({ $0.trainAccuracy == nil && $0.testAccuracy == nil }) {
                throw unavailable("it has no evaluated accuracy yet")
            }
            var chart = accuracyChart(detail, againstMeasurements: kind == .accuracyMeasurements)
            if let retrain = DeepPlan.from(json: record.configJSON)?.retrain {
                try markRetrain(&chart, retrain, store: store)
            }
            return chart.render()
        case .conductance:
            let steps = try store.steps(runID: runID)
            guard let chosen = step.map({ s in steps.first { $0.step == s } }) ?? steps.last else {
                throw unavailable(step.map { "it has no step \($0)" } ?? "it has no committed step yet")
            }
            let geometry = await RunGeometry.load(record, store: store)
            guard let layout = geometry.crossbarLayout, let d = geometry.descriptor else {
                throw unavailable(
                    geometry.descriptor == nil
                        ? (record.deviceName.hasPrefix("sim:")
                            ? "its twin could not be rebuilt from the settings the run recorded"
                            : "the device's geometry is not recorded (attach the board with pnnlab attach)")
                        : "its device (\(record.identity.family)) is not a differential crossbar")
            }
            return conductanceMap(
                runID: runID, step: chosen, rows: layout.rows, cols: layout.cols, space: d.parameters,
                stuck: geometry.stuckParameters, stuckSource: geometry.stuckSource
            ).render()
        case .jacobian:
            let blocks = try store.measurements(runID: runID, kinds: ["jacobian"])
            if blocks.isEmpty {
                throw unavailable("it recorded no Jacobian (train with record_jacobians = true in the [trainer] table)")
            }
            let geometry = await RunGeometry.load(record, store: store)
            let unit = geometry.descriptor.map { "\($0.outputs.unit.symbol)/\($0.parameters.unit.symbol)" }
            return try jacobianChart(runID: runID, blocks: blocks, unit: unit).render()
        case .regression:
            guard let plan = try? RunPlan.from(json: record.configJSON), plan.task.isRegression else {
                throw unavailable("it is not a regression run (--task multiply)")
            }
            guard let last = try store.measurements(runID: runID, kinds: ["test_outputs"]).last else {
                throw unavailable("it recorded no test-split outputs (record_outputs = false, or no evaluation yet)")
            }
            let task = try PreparedTask(plan.task, config: plan.trainer, amplitude: 1, seed: plan.seed)
            let detail = try RunDetail.load(runID: runID, store: store)
            return regressionChart(detail, step: last.step, block: last.block, targets: task.test.targets ?? []).render()
        case .informationPlane:
            guard let chart = try informationPlane(runID: runID, store: store) else {
                throw unavailable("it is not a pib run with a hidden unit, or has no hidden-unit epoch committed yet")
            }
            return chart.render()
        case .errors, .cycle:
            guard contrastive else { throw unavailable("it is a \(record.method) run, not a contrastive one") }
            let run = try ContrastiveRun.load(runID: runID, store: store)
            if kind == .errors {
                if run.records.filter({ $0.kind != .trace }).isEmpty { throw unavailable("it has no committed record yet") }
                return LimitCyclePlots.errors(run)
            }
            guard let svg = LimitCyclePlots.cycle(run) else {
                throw unavailable("the cycle in G-space needs a 2-edge network with recorded periods")
            }
            return svg
        }
    }

    /// Loss against step or cumulative measurements: every step's batch loss, every
    /// evaluation's loss on the whole training split.
    public static func lossChart(_ detail: RunDetail, steps: [StepRecord], againstMeasurements: Bool) -> ExperimentChart {
        let r = detail.result
        let unit = unitSymbol(r.lossUnit)
        var chart = ExperimentChart(
            title: "Run \(r.run): loss (\(r.method) on \(r.task))",
            xTitle: againstMeasurements ? "cumulative measurements (input vectors applied)" : "step",
            yTitle: "loss (\(unit))", logX: againstMeasurements, logY: true)
        let cumulative = Dictionary(steps.map { ($0.step, Double($0.cumulativeMeasurements)) }, uniquingKeysWith: { a, _ in a })
        func x(_ step: Int) -> Double { againstMeasurements ? cumulative[step] ?? .nan : Double(step) }
        let batch = detail.stepLosses.filter { $0.batchLoss != nil }
        if !batch.isEmpty {
            chart.series.append(
                .init(
                    name: "batch loss (before the step)", x: batch.map { x($0.step) }, y: batch.map { $0.batchLoss! },
                    color: "#9aa5b1", markers: batch.count <= 60))
        }
        let evals = detail.evaluations.filter { $0.evalLoss != nil }
        chart.series.append(
            .init(
                name: r.kind == .contrastive ? "mean task error" : "evaluation loss (training split)",
                x: evals.map { x($0.step) }, y: evals.map { $0.evalLoss! }, color: blue, markers: evals.count <= 60))
        chart.caption.append(
            r.lossUnit == "nats"
                ? "Loss: softmax cross-entropy in nats (the loss_unit of show --json and export)."
                : "Loss in \(unit) (the loss_unit of show --json and export).")
        return chart
    }

    /// Train and test accuracy at every evaluation, the digital ceiling as a dashed line.
    public static func accuracyChart(_ detail: RunDetail, againstMeasurements: Bool) -> ExperimentChart {
        let r = detail.result
        var chart = ExperimentChart(
            title: "Run \(r.run): accuracy (\(r.method) on \(r.task))",
            xTitle: againstMeasurements ? "cumulative measurements (input vectors applied)" : "step",
            yTitle: "accuracy (fraction correct)", logX: againstMeasurements)
        chart.yLimits = 0...1
        func x(_ e: EvaluationRow) -> Double { againstMeasurements ? Double(e.cumulativeMeasurements) : Double(e.step) }
        let train = detail.evaluations.filter { $0.trainAccuracy != nil }
        let test = detail.evaluations.filter { $0.testAccuracy != nil }
        if !train.isEmpty {
            chart.series.append(
                .init(name: "train", x: train.map(x), y: train.map { $0.trainAccuracy! }, color: grey, markers: train.count <= 60)
            )
        }
        if !test.isEmpty {
            chart.series.append(
                .init(name: "test", x: test.map(x), y: test.map { $0.testAccuracy! }, color: blue, markers: test.count <= 60))
        }
        if let ceiling = r.digitalCeiling {
            let what = r.readoutCeilingSource != nil ? "readout ceiling" : "digital ceiling"
            chart.referenceLines.append(.init(name: "\(what) \(String(format: "%.3f", ceiling))", y: ceiling, color: red))
            chart.caption.append(
                r.readoutCeilingSource != nil
                    ? "Readout ceiling: the same readout trained on \(r.readoutCeilingSource!) (test accuracy)."
                    : "Digital ceiling: test accuracy of the same architecture, encoding and split trained digitally.")
        } else if r.kind == .jacobian {
            chart.caption.append("No digital ceiling is recorded for this run.")
        }
        return chart
    }

    /// The G+ and G− arrays of a differential crossbar at `step`, on the device window's scale.
    public static func conductanceMap(
        runID: Int64, step: StepRecord, rows: Int, cols: Int, space: ParameterSpace, stuck: [Int]?, stuckSource: String?
    ) -> HeatMapChart {
        let unit = space.unit.symbol
        var chart = HeatMapChart(title: "Run \(runID): conductances after step \(step.step)", scaleTitle: "G (\(unit))")
        let theta = step.parameters
        var plus = [Double](repeating: .nan, count: rows * cols)
        var minus = plus
        var stuckPlus = Set<Int>()
        var stuckMinus = Set<Int>()
        let stuckSet = Set(stuck ?? [])
        for i in 0..<min(theta.count, 2 * rows * cols) {
            let cell = i / 2
            if i % 2 == 0 { plus[cell] = theta[i] } else { minus[cell] = theta[i] }
            if stuckSet.contains(i) { _ = i % 2 == 0 ? stuckPlus.insert(cell) : stuckMinus.insert(cell) }
        }
        chart.panels = [
            .init(name: "G+ array", rows: rows, cols: cols, values: plus, marked: stuckPlus),
            .init(name: "G− array", rows: rows, cols: cols, values: minus, marked: stuckMinus),
        ]
        if let lo = space.lower.min(), let hi = space.upper.max(), hi > lo { chart.limits = lo...hi }
        chart.markMeaning = "stuck device, from \(stuckSource ?? "?")"
        chart.caption.append(
            "Programmed targets θ (\(unit)) as stored with the step; weight of (row, column) = G+ − G−. Scale: the device window."
        )
        if stuck == nil {
            chart.caption.append("Stuck devices unknown: no calibration of this device is stored.")
        } else if stuckSet.isEmpty {
            chart.caption.append("No stuck device (from \(stuckSource ?? "?")).")
        }
        return chart
    }

    /// A regression run's output 0 on the test grid against the target (one dot per grid
    /// point), with the line output = target.
    public static func regressionChart(_ detail: RunDetail, step: Int, block: MeasurementBlock, targets: [Double])
        -> ExperimentChart
    {
        let r = detail.result
        var chart = ExperimentChart(
            title: "Run \(r.run): output against target (\(r.method) on \(r.task), step \(step))",
            xTitle: "target (x1·x2 for multiply)", yTitle: "measured output 0 (device output unit)")
        let n = min(block.rows, targets.count)
        let y = (0..<n).map { block.values[$0 * block.cols] }
        let lo = min(targets.min() ?? -1, y.min() ?? -1)
        let hi = max(targets.max() ?? 1, y.max() ?? 1)
        chart.series.append(.init(name: "output = target", x: [lo, hi], y: [lo, hi], color: grey, markers: false))
        chart.series.append(.init(name: "test grid (\(n) points)", x: Array(targets.prefix(n)), y: y, color: blue, line: false))
        if let rms = r.rmsError { chart.caption.append("RMS error on the test grid: \(String(format: "%.4f", rms)).") }
        chart.caption.append("Outputs as measured at the last evaluation (evaluation repeats averaged, shot noise included).")
        return chart
    }

    /// Singular values (descending) of every recorded Jacobian, one series per step (at most
    /// eight, spread over the run), on a log axis.
    public static func jacobianChart(runID: Int64, blocks: [StoredMeasurement], unit: String?) throws -> ExperimentChart {
        var chart = ExperimentChart(
            title: "Run \(runID): Jacobian singular values", xTitle: "index (descending order)",
            yTitle: "singular value\(unit.map { " (\($0))" } ?? "")", logY: true)
        let picked: [StoredMeasurement]
        if blocks.count <= 8 {
            picked = blocks
        } else {
            picked = (0..<8).map { blocks[$0 * (blocks.count - 1) / 7] }
        }
        let colors = [blue, red, green, grey, "#8e44ad", "#d35400", "#16a085", "#2c3e50"]
        for (k, stored) in picked.enumerated() {
            let b = stored.block
            let s = try Matrix(rows: b.rows, cols: b.cols, storage: b.values).svd().singularValues
            chart.series.append(
                .init(
                    name: "step \(stored.step) (\(b.rows)×\(b.cols))", x: s.indices.map { Double($0 + 1) }, y: s,
                    color: colors[k % colors.count], markers: s.count <= 40))
        }
        chart.caption.append(
            "Class outputs × parameters, as the trainer used them at the first step of each epoch"
                + (blocks.count > picked.count ? " (\(picked.count) of \(blocks.count) recorded shown)." : "."))
        return chart
    }

    /// A stored crossbar calibration: every device's window Gmin…Gmax (bars), the conductance
    /// it was left at (dots) and the stuck devices (red).
    public static func calibration(id: Int64, store: RunStore) throws -> String {
        guard let record = try store.calibrations().first(where: { $0.id == id }) else {
            throw PlotError.unknownCalibration(id: id)
        }
        guard record.procedure == "crossbar-devices", let doc = try? JSONValue(parsing: Data(record.profileJSON.utf8)),
            let payload = doc["payload"]
        else {
            throw PlotError.calibrationNotPlottable(id: id, procedure: record.procedure)
        }
        func numbers(_ key: String) -> [Double] {
            guard case .array(let a)? = payload[key] else { return [] }
            return a.map { if case .number(let x) = $0 { x } else { .nan } }
        }
        return calibrationChart(
            id: id, serial: record.serial, gMin: numbers("g_min_us"), gMax: numbers("g_max_us"),
            left: numbers("conductances_us"), stuck: numbers("stuck_devices").map { Int($0) }
        ).render()
    }

    /// The calibration chart from its arrays (µS, parameter order).
    public static func calibrationChart(
        id: Int64, serial: String, gMin: [Double], gMax: [Double], left: [Double], stuck: [Int]
    ) -> ExperimentChart {
        let shown = min(gMin.count, gMax.count, 512)
        let stuckSet = Set(stuck)
        var chart = ExperimentChart(
            title: "Calibration \(id) of \(serial): device windows", xTitle: "device (parameter index)",
            yTitle: "conductance (µS)")
        let working = (0..<shown).filter { !stuckSet.contains($0) }
        chart.series.append(
            .init(
                name: "window Gmin…Gmax", x: working.map(Double.init), y: working.map { (gMin[$0] + gMax[$0]) / 2 },
                yError: working.map { (gMax[$0] - gMin[$0]) / 2 }, color: blue, line: false, markers: false))
        if left.count >= shown {
            chart.series.append(
                .init(
                    name: "left at (mean of reads)", x: working.map(Double.init), y: working.map { left[$0] }, color: grey,
                    line: false))
        }
        let stuckShown = (0..<shown).filter { stuckSet.contains($0) }
        if !stuckShown.isEmpty {
            chart.series.append(
                .init(
                    name: "stuck (level)", x: stuckShown.map(Double.init), y: stuckShown.map { gMin[$0] }, color: red,
                    line: false))
        }
        chart.errorBars = "each device's fitted window, from Gmin (RESET sweep) to Gmax (SET sweep); not an uncertainty."
        if shown < gMin.count { chart.caption.append("First \(shown) of \(gMin.count) devices shown.") }
        return chart
    }

    /// A store unit spelled for a chart: `uA^2` → µA², `V^2` → V².
    static func unitSymbol(_ unit: String) -> String {
        (unit.hasPrefix("u") ? "µ" + unit.dropFirst() : unit).replacingOccurrences(of: "^2", with: "²")
    }
}
