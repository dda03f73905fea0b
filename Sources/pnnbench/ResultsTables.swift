import Foundation
import PNNCore
import PNNDevices
import PNNExperiments
import PNNRuns
import PNNStore
import PNNTraining

/// Accuracy tables on the twins over several seeds: what `make results` writes to
/// docs/results.md. Runs go through the same `TrainingSession` and store as the CLI.
enum ResultsTables {
    struct Row {
        var task: String
        var method: String
        var seed: UInt64
        var train: Double
        var test: Double
        var measurements: Int
        var measurementsToFinal: Int
        var steps: Int
        var wall: Double
        /// The run's digital ceiling (test accuracy of the same linear map trained digitally).
        var ceiling: Double
        /// Cumulative measurements at the first evaluation within 2 points of the ceiling (nil: never).
        var measurementsToCeiling: Int?
        /// Row label beyond task and method (the linear-path table: twin, encoding, epochs).
        var variant = ""
    }

    static func run(quick: Bool) async throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-results-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try RunStore(path: dir.appendingPathComponent("results.sqlite").path)
        let seeds: [UInt64] = quick ? [1, 2] : [1, 2, 3, 4, 5]
        var rows: [Row] = []
        for method in [TrainingMethod.gaussNewton, .gradient, .spsa] {
            for seed in seeds {
                rows.append(try await train(.iris, method, seed: seed, store: store))
            }
        }
        for seed in quick ? [UInt64(1)] : [1, 2, 3] {
            rows.append(try await train(.digits, .gaussNewton, seed: seed, store: store))
        }
        // Issue 13's linear-encoding path: Iris with encoding = "linear" on the ideal twin.
        var linear: [Row] = []
        for (method, epochs) in [(TrainingMethod.gaussNewton, 15), (.gaussNewton, 25), (.gradient, 40)] {
            for seed in seeds {
                var config = TrainerConfig()
                config.encoding = .linear
                config.epochs = epochs
                var row = try await train(.iris, method, seed: seed, store: store, config: config, twinOptions: ["--ideal"])
                row.variant = "ideal twin, linear, \(epochs) epochs"
                linear.append(row)
            }
        }
        // Measurements to the ceiling minus 2 points, with and without Jacobian reuse.
        var reuse: [Row] = []
        let settings: [(TrainingMethod, String, Int, Int?, Int)] = [
            (.gaussNewton, "batch 32, a Jacobian per step", 15, nil, 1),
            (.gaussNewton, "full batch, a Jacobian per step", 60, 105, 1),
            (.gaussNewton, "full batch, --jacobian-refresh 10", 60, nil, 10),
            (.gradient, "batch 32, a Jacobian per step", 40, nil, 1),
            (.gradient, "full batch, --jacobian-refresh 10", 200, nil, 10),
        ]
        for (method, label, epochs, batch, refresh) in settings {
            for seed in seeds {
                var config = TrainerConfig()
                config.epochs = epochs
                if let batch { config.batchSize = batch }
                config.jacobianRefresh = refresh
                var row = try await train(.iris, method, seed: seed, store: store, config: config)
                row.variant = label
                reuse.append(row)
            }
        }
        return render(rows, seeds: seeds) + linearPath(linear) + jacobianReuse(reuse)
    }

    static func train(
        _ task: TaskName, _ method: TrainingMethod, seed: UInt64, store: RunStore, config: TrainerConfig? = nil,
        twinOptions: [String] = []
    ) async throws -> Row {
        var trainer = config ?? TrainerConfig()
        if task == .digits && config == nil { trainer.batchSize = 64 }
        let plan = RunPlan(task: task, method: method, seed: seed, device: "sim:crossbar", trainer: trainer)
        let opened = try await plan.open(twinArguments: TwinArguments(optionWords: twinOptions))
        var recorded = plan
        recorded.twin = opened.device.twin
        let t = try Trainer(substrate: opened.substrate, method: method, config: plan.trainer, task: opened.task)
        var session = try await TrainingSession.start(plan: recorded, trainer: t, store: store)
        let outcome = try await session.run(observer: nil, pauseRequested: { false })
        let steps = try store.steps(runID: session.runID)
        let finalTest = outcome.testAccuracy ?? 0
        let ceiling = try store.run(id: session.runID).digitalCeiling ?? .nan
        let nearCeiling = steps.first { ($0.testAccuracy ?? -1) >= ceiling - 0.02 - 1e-12 }?.cumulativeMeasurements
        let reached = steps.first { ($0.testAccuracy ?? -1) >= finalTest - 1e-12 }?.cumulativeMeasurements ?? outcome.measurements
        let row = Row(
            task: task.rawValue, method: method.rawValue, seed: seed, train: outcome.trainAccuracy ?? 0, test: finalTest,
            measurements: outcome.measurements, measurementsToFinal: reached, steps: outcome.steps, wall: outcome.wallSeconds,
            ceiling: ceiling, measurementsToCeiling: nearCeiling)
        FileHandle.standardError.write(
            Data(
                "\(row.task) \(row.method) seed \(seed): test \(pct(row.test)) train \(pct(row.train)) measurements \(row.measurements)\n"
                    .utf8))
        return row
    }

    /// The issue's acceptance targets beside what this run measured.
    static func targets(_ rows: [Row]) -> String {
        func mean(_ task: String, _ method: String, _ f: (Row) -> Double) -> Double? {
            let rs = rows.filter { $0.task == task && $0.method == method }
            return rs.isEmpty ? nil : rs.map(f).reduce(0, +) / Double(rs.count)
        }
        var out = "\n## Targets\n\n| target | measured | met |\n|---|---|---|\n"
        if let gn = mean("iris", "gauss-newton", \.test) {
            out += "| Iris, Mode B, mean test accuracy ≥ 95 % | \(pct(gn)) | \(gn >= 0.95 ? "yes" : "**no**") |\n"
        }
        if let d = mean("digits", "gauss-newton", \.test) {
            out += "| digits 8×8, Mode B, test accuracy ≥ 90 % | \(pct(d)) | \(d >= 0.9 ? "yes" : "**no**") |\n"
        }
        if let b = mean("iris", "gauss-newton", { Double($0.measurementsToFinal) }),
            let a = mean("iris", "gradient", { Double($0.measurementsToFinal) })
        {
            out += String(
                format: "| Iris: Mode B needs far fewer measurements than Mode A | Mode B %.3g vs Mode A %.3g to final | %@ |\n",
                b, a,
                b < 0.5 * a ? "yes" : "**no**")
        }
        return out
    }

    static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    static func meanSD(_ xs: [Double]) -> (Double, Double) {
        let m = xs.reduce(0, +) / Double(max(xs.count, 1))
        let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(xs.count - 1, 1))
        return (m, v.squareRoot())
    }

    static func render(_ rows: [Row], seeds: [UInt64]) -> String {
        var out = """
            # Results on the twins

            Produced by `make results` (`.build/release/pnnbench --results --output docs/results.md`).
            Every run uses the default, noisy crossbar twin (all non-idealities on at the levels
            in the README) sized to the task, trained through the same `TrainingSession` and
            store as `pnnlab train`. "Measurements" counts input vectors applied to the device
            (Jacobian probes, SPSA probes and evaluations); "to final" is the cumulative count at
            the first evaluation that reached the run's final test accuracy.

            ## Summary (mean ± s.d. over seeds)

            `digital ceiling` is each run's `digital_ceiling`: the test accuracy of the same linear map,
            encoding and split trained digitally with exact arithmetic (README, "Digital ceiling") —
            the number the device is chasing.

            | task | method | seeds | test accuracy | digital ceiling | train accuracy | measurements | measurements to final | wall s |
            |---|---|---|---|---|---|---|---|---|

            """
        var groups: [String] = []
        for r in rows where !groups.contains("\(r.task)|\(r.method)") { groups.append("\(r.task)|\(r.method)") }
        for g in groups {
            let rs = rows.filter { "\($0.task)|\($0.method)" == g }
            let (tm, ts) = meanSD(rs.map(\.test))
            let (rm, rsd) = meanSD(rs.map(\.train))
            let (cm, csd) = meanSD(rs.map(\.ceiling))
            let (mm, _) = meanSD(rs.map { Double($0.measurements) })
            let (fm, _) = meanSD(rs.map { Double($0.measurementsToFinal) })
            let (wm, _) = meanSD(rs.map(\.wall))
            out += "| \(rs[0].task) | \(rs[0].method) | \(rs.count) | \(pct(tm)) ± \(pct(ts)) | \(pct(cm)) ± \(pct(csd)) | "
            out += "\(pct(rm)) ± \(pct(rsd)) | "
            out += String(format: "%.3g | %.3g | %.1f |\n", mm, fm, wm)
        }
        out += targets(rows)
        out +=
            "\n## Every run\n\n| task | method | seed | test | ceiling | train | steps | measurements | to final | wall s |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            out +=
                "| \(r.task) | \(r.method) | \(r.seed) | \(pct(r.test)) | \(pct(r.ceiling)) | \(pct(r.train)) | \(r.steps) | \(r.measurements) | \(r.measurementsToFinal) | "
            out += String(format: "%.1f |\n", r.wall)
        }
        return out
    }

    /// Issue 13's linear-encoding path: Iris, `encoding = "linear"`, ideal twin, against the
    /// digital linear model of the same splits.
    static func linearPath(_ rows: [Row]) -> String {
        var out = """

            ## The linear-encoding path (issue 13)

            Iris with `encoding = "linear"` (4 standardised features and the bias line on a 5 × 3
            array) on the ideal twin. Issue 13 measured 90.2 % for Gauss–Newton against 95.6 % for a
            digital linear model. Cause: the softmax gain was 1 logit/µA, and the 5-line array's
            conductance window (±24.75 µS on ≤ 0.24 V per line) caps one line's logit at ≈ 6 for a
            full-scale input, below the 7–8 logits per normalised input the digital model puts on
            the petal features; the loss kept pushing differential pairs onto the window's edges
            (final runs had whole rows at 0.3/25 µS), where the projection distorts every step.
            Neither the damping (1e-4…1e-6: worse), nor the logit step, nor a full batch fixed it;
            a larger window (g_max 250 µS) or gain did. The gain now defaults to 75 logits at the
            device's output full scale (4.0 logits/µA here; 1.33 on the 15-line quadratic array,
            0.31 on digits' 65 lines) and Mode A's step to 100/gain². The linear problem also
            converges more slowly than the quadratic one (the final test accuracy still swings by
            ± 5 points between epochs at 15 epochs): Gauss–Newton needs 25 epochs to sit at the
            ceiling. Same runs from the CLI (seeds 1–5):
            `pnnlab train sim:crossbar --ideal --task iris --method gauss-newton --epochs 25 --seed S --config linear.toml`
            with `linear.toml` holding `[trainer]` and `encoding = "linear"`.

            | method | twin, encoding, epochs | seeds | test accuracy | digital ceiling | gap | train accuracy | measurements |
            |---|---|---|---|---|---|---|---|

            """
        var groups: [String] = []
        for r in rows where !groups.contains("\(r.method)|\(r.variant)") { groups.append("\(r.method)|\(r.variant)") }
        for g in groups {
            let rs = rows.filter { "\($0.method)|\($0.variant)" == g }
            let (tm, ts) = meanSD(rs.map(\.test))
            let (cm, _) = meanSD(rs.map(\.ceiling))
            let (rm, _) = meanSD(rs.map(\.train))
            let (mm, _) = meanSD(rs.map { Double($0.measurements) })
            out += "| \(rs[0].method) | \(rs[0].variant) | \(rs.count) | \(pct(tm)) ± \(pct(ts)) | \(pct(cm)) | "
            out += String(format: "%+.1f | %@ | %.3g |\n", 100 * (tm - cm), pct(rm), mm)
        }
        return out
    }

    /// Issue 13's measurement efficiency: measurements until the test accuracy is within 2
    /// points of the digital ceiling, Gauss–Newton and gradient with and without Jacobian reuse.
    static func jacobianReuse(_ rows: [Row]) -> String {
        var out = """

            ## Jacobian reuse: measurements to the ceiling minus 2 points (issue 13)

            Iris (quadratic encoding) on the default, noisy twin. "To ceiling − 2" is the cumulative
            count of measurements (Jacobian probes, Broyden base measurements and evaluations) at the
            first evaluation whose test accuracy is within 2 points of the run's `digital_ceiling`,
            median over the seeds that got there. With `--jacobian-refresh 10` a step measures the
            Jacobian of the whole training split by finite differences every 10th step and otherwise
            only the split's outputs (105 vectors against 19 005), updating the kept Jacobian by
            Broyden's rank-one secant update (`JacobianCache`). Refresh rule: the update is exact
            for a device linear in θ and errs, along the step, by read noise, programming error and
            drift otherwise; those errors accumulate, so a full estimate every N steps bounds their
            life; N = 10 reached the target on 5/5 seeds where N = 5 and N = 20 each missed one
            (CLI, same seeds). On the crossbar ∂y/∂G is the input itself, so reuse alone carries the
            saving: with the update switched off the counts were within 15 % of these (measured once
            through the CLI); the update is for devices whose Jacobian moves with θ. Same runs from
            the CLI: `pnnlab train sim:crossbar --task iris --method gauss-newton --jacobian-refresh 10 --epochs 60 --seed S`.

            | method | steps | seeds | final test | digital ceiling | reached | to ceiling − 2 | measurements |
            |---|---|---|---|---|---|---|---|

            """
        var groups: [String] = []
        for r in rows where !groups.contains("\(r.method)|\(r.variant)") { groups.append("\(r.method)|\(r.variant)") }
        for g in groups {
            let rs = rows.filter { "\($0.method)|\($0.variant)" == g }
            let (tm, ts) = meanSD(rs.map(\.test))
            let (cm, _) = meanSD(rs.map(\.ceiling))
            let (mm, _) = meanSD(rs.map { Double($0.measurements) })
            let hits = rs.compactMap(\.measurementsToCeiling).sorted()
            let median =
                hits.isEmpty
                ? "–"
                : String(
                    format: "%.3g",
                    hits.count % 2 == 1
                        ? Double(hits[hits.count / 2]) : Double(hits[hits.count / 2 - 1] + hits[hits.count / 2]) / 2)
            out += "| \(rs[0].method) | \(rs[0].variant) | \(rs.count) | \(pct(tm)) ± \(pct(ts)) | \(pct(cm)) | "
            out += "\(hits.count)/\(rs.count) | \(median) | " + String(format: "%.3g |\n", mm)
        }
        return out
    }
}
