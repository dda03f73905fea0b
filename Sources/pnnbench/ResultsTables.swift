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
        return render(rows, seeds: seeds)
    }

    static func train(_ task: TaskName, _ method: TrainingMethod, seed: UInt64, store: RunStore) async throws -> Row {
        var trainer = TrainerConfig()
        if task == .digits { trainer.batchSize = 64 }
        let plan = RunPlan(task: task, method: method, seed: seed, device: "sim:crossbar", trainer: trainer)
        let opened = try await plan.open()
        var recorded = plan
        recorded.twin = opened.device.twin
        let t = try Trainer(substrate: opened.substrate, method: method, config: plan.trainer, task: opened.task)
        var session = try await TrainingSession.start(plan: recorded, trainer: t, store: store)
        let outcome = try await session.run(observer: nil, pauseRequested: { false })
        let steps = try store.steps(runID: session.runID)
        let finalTest = outcome.testAccuracy ?? 0
        let reached = steps.first { ($0.testAccuracy ?? -1) >= finalTest - 1e-12 }?.cumulativeMeasurements ?? outcome.measurements
        let row = Row(
            task: task.rawValue, method: method.rawValue, seed: seed, train: outcome.trainAccuracy ?? 0, test: finalTest,
            measurements: outcome.measurements, measurementsToFinal: reached, steps: outcome.steps, wall: outcome.wallSeconds)
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

            | task | method | seeds | test accuracy | train accuracy | measurements | measurements to final | wall s |
            |---|---|---|---|---|---|---|---|

            """
        var groups: [String] = []
        for r in rows where !groups.contains("\(r.task)|\(r.method)") { groups.append("\(r.task)|\(r.method)") }
        for g in groups {
            let rs = rows.filter { "\($0.task)|\($0.method)" == g }
            let (tm, ts) = meanSD(rs.map(\.test))
            let (rm, rsd) = meanSD(rs.map(\.train))
            let (mm, _) = meanSD(rs.map { Double($0.measurements) })
            let (fm, _) = meanSD(rs.map { Double($0.measurementsToFinal) })
            let (wm, _) = meanSD(rs.map(\.wall))
            out += "| \(rs[0].task) | \(rs[0].method) | \(rs.count) | \(pct(tm)) ± \(pct(ts)) | \(pct(rm)) ± \(pct(rsd)) | "
            out += String(format: "%.3g | %.3g | %.1f |\n", mm, fm, wm)
        }
        out += targets(rows)
        out +=
            "\n## Every run\n\n| task | method | seed | test | train | steps | measurements | to final | wall s |\n|---|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            out +=
                "| \(r.task) | \(r.method) | \(r.seed) | \(pct(r.test)) | \(pct(r.train)) | \(r.steps) | \(r.measurements) | \(r.measurementsToFinal) | "
            out += String(format: "%.1f |\n", r.wall)
        }
        return out
    }
}
