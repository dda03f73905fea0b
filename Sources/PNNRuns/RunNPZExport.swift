import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// A run as a self-describing NumPy `.npz` (`pnnlab export RUN --format npz -o FILE.npz`):
/// every array's unit is in its name, `metadata_json` describes the run and every array, and
/// measured blocks carry the step and sample ids of each of their rows. Schema: docs/export.md.
public enum RunNPZExport {
    /// Format name and version written in `metadata_json`.
    public static let format = "pnnlab-run-npz"
    public static let version = 1

    /// The archive of run `runID`.
    public static func archive(runID: Int64, store: RunStore) async throws -> NPZArchive {
        let record = try store.run(id: runID)
        let detail = try RunDetail.load(runID: runID, store: store)
        let steps = try store.steps(runID: runID)
        let geometry = await RunGeometry.load(record, store: store)
        var b = Builder()

        // Per step.
        let lossUnit = ascii(detail.result.lossUnit)
        let losses = Dictionary(detail.stepLosses.map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
        try b.add("step", .int64(steps.map(\.step)), "committed step number (from 1)", unit: "count")
        try b.add(
            "step_epoch", .int64(steps.map(\.epoch)),
            "epochs completed when the step was committed (Jacobian runs); the record's period + 1 (contrastive runs)",
            unit: "count")
        try b.add(
            "step_batch_loss_\(lossUnit)", .float64(steps.map { losses[$0.step]?.batchLoss ?? .nan }),
            "loss on the step's batch before its update (NaN: none, e.g. contrastive records)", unit: detail.result.lossUnit)
        try b.add(
            "step_eval_loss_\(lossUnit)", .float64(steps.map { losses[$0.step]?.evalLoss ?? .nan }),
            "loss on the whole training split where the step ended an evaluation (NaN elsewhere)", unit: detail.result.lossUnit)
        try b.add(
            "step_train_accuracy_fraction", .float64(steps.map { $0.trainAccuracy ?? .nan }),
            "training-split accuracy 0…1 where evaluated (NaN elsewhere)", unit: "1")
        try b.add(
            "step_test_accuracy_fraction", .float64(steps.map { $0.testAccuracy ?? .nan }),
            "test-split accuracy 0…1 where evaluated (NaN elsewhere)", unit: "1")
        try b.add(
            "step_measurements_count", .int64(steps.map(\.measurements)), "input vectors applied in the step", unit: "count")
        try b.add(
            "step_cumulative_measurements_count", .int64(steps.map(\.cumulativeMeasurements)),
            "input vectors applied since the run started, this step included", unit: "count")
        try b.add("step_wall_s", .float64(steps.map(\.wallSeconds)), "wall time of the step", unit: "s")

        // Parameters and geometry.
        let parameterUnit = geometry.descriptor.map { ascii($0.parameters.unit.symbol) } ?? "device_units"
        let p = steps.map(\.parameters.count).max() ?? 0
        var theta: [Double] = []
        theta.reserveCapacity(steps.count * p)
        for s in steps { theta += s.parameters + [Double](repeating: .nan, count: p - s.parameters.count) }
        try b.add(
            "parameters_\(parameterUnit)", .matrix(theta, rows: steps.count, cols: p),
            "parameter targets after each step (rows: steps, columns: parameter index)", unit: parameterUnit)
        if let d = geometry.descriptor, d.parameters.count == p {
            try b.add("parameter_name", .strings((0..<p).map { d.parameters.name(of: $0) }), "name of each parameter", unit: nil)
            try b.add(
                "parameter_lower_\(parameterUnit)", .float64(d.parameters.lower), "lowest value the device accepts",
                unit: parameterUnit)
            try b.add(
                "parameter_upper_\(parameterUnit)", .float64(d.parameters.upper), "highest value the device accepts",
                unit: parameterUnit)
        }
        if let layout = geometry.crossbarLayout, layout.row.count == p {
            try b.add("parameter_row", .int64(layout.row), "crossbar row (input line) of each parameter", unit: "count")
            try b.add(
                "parameter_column", .int64(layout.column), "crossbar column (class output) of each parameter", unit: "count")
            try b.add(
                "parameter_sign", .int64(layout.sign),
                "+1: the G+ device of its pair, −1: the G− device (weight = G+ − G−)", unit: "1")
        }
        if let stuck = geometry.stuckParameters {
            try b.add(
                "stuck_parameter_index", .int64(stuck), "parameters whose device is stuck (from \(geometry.stuckSource ?? "?"))",
                unit: "count")
        }

        // Per evaluation.
        let evals = detail.evaluations
        try b.add(
            "eval_index", .int64(evals.map(\.index)),
            detail.result.kind == .jacobian ? "evaluated epoch (from 1)" : "recorded period (0: before learning)", unit: "count")
        try b.add("eval_step", .int64(evals.map(\.step)), "the step that ended the evaluation", unit: "count")
        try b.add(
            "eval_loss_\(lossUnit)", .float64(evals.map { $0.evalLoss ?? .nan }), "loss on the whole training split",
            unit: detail.result.lossUnit)
        try b.add(
            "eval_train_accuracy_fraction", .float64(evals.map { $0.trainAccuracy ?? .nan }), "training-split accuracy 0…1",
            unit: "1")
        try b.add(
            "eval_test_accuracy_fraction", .float64(evals.map { $0.testAccuracy ?? .nan }), "test-split accuracy 0…1 (NaN: none)",
            unit: "1")
        try b.add(
            "eval_cumulative_measurements_count", .int64(evals.map(\.cumulativeMeasurements)),
            "input vectors applied up to the evaluation", unit: "count")

        // Samples and measured blocks.
        let plan = try? RunPlan.from(json: record.configJSON)
        var split: (train: Dataset, test: Dataset)?
        if let plan {
            split = try? plan.task.split(seed: plan.seed, testFraction: plan.trainer.testFraction, subset: plan.trainer.subset)
        }
        if let split {
            try b.add(
                "train_label", .int64(split.train.labels),
                "class of each training sample; a train_sample_id indexes this array", unit: "count")
            try b.add(
                "test_label", .int64(split.test.labels), "class of each test sample; a test_sample_id indexes this array",
                unit: "count")
            try b.add("class_name", .strings(split.train.classNames), "name of each class (label → name)", unit: nil)
        }
        let outputUnit = geometry.descriptor.map { ascii($0.outputs.unit.symbol) } ?? "device_units"
        let blocks = try store.measurements(runID: runID)
        let kinds = blocks.reduce(into: [String]()) { if !$0.contains($1.block.kind) { $0.append($1.block.kind) } }
        let batchIDs = plan.flatMap { batchSampleIDs(plan: $0, steps: steps, trainCount: split?.train.count, parameterCount: p) }
        for kind in kinds {
            let mine = blocks.filter { $0.block.kind == kind }
            let cols = mine[0].block.cols
            guard mine.allSatisfy({ $0.block.cols == cols }) else {
                // Blocks of one kind with different widths: one array per step.
                for m in mine {
                    try b.add(
                        "\(kind)_step\(m.step)", .matrix(m.block.values, rows: m.block.rows, cols: m.block.cols),
                        "the \(kind) block of step \(m.step)", unit: nil)
                }
                continue
            }
            let rows = mine.reduce(0) { $0 + $1.block.rows }
            var values: [Double] = []
            values.reserveCapacity(rows * cols)
            var stepOfRow: [Int] = []
            stepOfRow.reserveCapacity(rows)
            for m in mine {
                values += m.block.values
                stepOfRow += [Int](repeating: m.step, count: m.block.rows)
            }
            let (name, unit, what) = describe(kind, outputUnit: outputUnit, parameterUnit: parameterUnit)
            try b.add(name, .matrix(values, rows: rows, cols: cols), what, unit: unit)
            try b.add("\(kind)_step", .int64(stepOfRow), "the step each row of \(name) was measured in", unit: "count")
            switch kind {
            case "batch_outputs":
                if let ids = batchIDs, mine.allSatisfy({ ids[$0.step]?.count == $0.block.rows }) {
                    try b.add(
                        "batch_outputs_train_sample_id", .int64(mine.flatMap { ids[$0.step]! }),
                        "training sample (index into train_label) of each row of \(name)", unit: "count")
                }
            case "test_outputs", "test_scores":
                if let n = split?.test.count, mine.allSatisfy({ $0.block.rows == n }) {
                    try b.add(
                        "\(kind)_test_sample_id", .int64(mine.flatMap { _ in Array(0..<n) }),
                        "test sample (index into test_label) of each row of \(name)", unit: "count")
                }
            case "jacobian":
                if let ids = batchIDs, let classes = split?.train.classCount,
                    mine.allSatisfy({ ids[$0.step]?.count ?? -1 == $0.block.rows / max(classes, 1) })
                {
                    try b.add(
                        "jacobian_train_sample_id",
                        .int64(mine.flatMap { m in ids[m.step]!.flatMap { Array(repeating: $0, count: classes) } }),
                        "training sample of each Jacobian row (rows: sample-major, then class output)", unit: "count")
                    try b.add(
                        "jacobian_output", .int64(mine.flatMap { m in (0..<m.block.rows).map { $0 % classes } }),
                        "class output of each Jacobian row", unit: "count")
                }
            default: break
            }
        }

        // Metadata.
        let resultJSON = try ResultJSON.string(detail.result)
        let settingsJSON = detail.settings.jsonString()
        var meta =
            "{\"format\": \"\(format)\", \"version\": \(version), \"result\": \(resultJSON), \"settings\": \(settingsJSON), "
        meta += "\"arrays\": {"
        meta += b.descriptions.map { name, d in
            "\(jsonString(name)): {\"unit\": \(d.unit.map(jsonString) ?? "null"), \"description\": \(jsonString(d.what))}"
        }
        .joined(separator: ", ")
        meta += "}}"
        try b.archive.add("metadata_json", .text(meta))
        return b.archive
    }

    /// The training samples of each step's batch, by step: replayed from the checkpoint of the
    /// step before (sample order and batch index; the seeded first order for step 1). Nil for
    /// runs that have no batches (readout, contrastive).
    static func batchSampleIDs(plan: RunPlan, steps: [StepRecord], trainCount: Int?, parameterCount: Int) -> [Int: [Int]]? {
        guard let n = trainCount, plan.method != .readout else { return nil }
        let reuses = plan.trainer.jacobianRefresh > 1 && plan.method != .spsa
        let batch = reuses ? max(n, 1) : plan.trainer.batchSize
        let decoder = JSONDecoder()
        var ids: [Int: [Int]] = [:]
        var order = Trainer.initialOrder(seed: plan.seed, parameterCount: parameterCount, trainCount: n)
        var batchIndex = 0
        var previous = 0
        for s in steps {
            if s.step != previous + 1 { return ids.isEmpty ? nil : ids }  // a gap: stop naming samples
            let lo = batchIndex * batch
            let hi = min(lo + batch, order.count)
            if reuses {
                ids[s.step] = Array(0..<n)
            } else if lo < hi {
                ids[s.step] = Array(order[lo..<hi])
            }
            guard let state = try? decoder.decode(TrainerState.self, from: Data(s.checkpointJSON.utf8)) else { break }
            order = state.order
            batchIndex = state.batchIndex
            previous = s.step
        }
        return ids
    }

    /// Array name, unit and description of a measurement kind.
    static func describe(_ kind: String, outputUnit: String, parameterUnit: String) -> (String, String?, String) {
        switch kind {
        case "batch_outputs":
            return (
                "batch_outputs_\(outputUnit)", outputUnit,
                "measured outputs of every batch before its update (every device output)"
            )
        case "test_outputs":
            return ("test_outputs_\(outputUnit)", outputUnit, "measured class outputs of the test split at every evaluation")
        case "jacobian":
            return (
                "jacobian_\(outputUnit)_per_\(parameterUnit)", "\(outputUnit)/\(parameterUnit)",
                "class-output Jacobian at the first step of each epoch (rows: sample × class output, columns: parameter)"
            )
        case "test_scores":
            return ("test_scores", nil, "readout scores of the test split (readout method)")
        case "readout_weights":
            return ("readout_weights", nil, "the fitted digital readout's effective weights (readout method)")
        case "outputs":
            return ("outputs_\(outputUnit)", outputUnit, "free-state outputs of every task point at each contrastive record")
        case "trace":
            return ("trace", nil, "contrastive gate traces: columns period, task, time (s), then the gates")
        default:
            return (kind, nil, "measurement blocks of kind \(kind)")
        }
    }

    /// A unit for an array name: `µA` → `uA`, `uA^2` → `uA2`, `V^2` → `V2`, `1` → `1`.
    static func ascii(_ unit: String) -> String {
        unit.replacingOccurrences(of: "µ", with: "u").replacingOccurrences(of: "^", with: "").replacingOccurrences(
            of: "/", with: "_per_")
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Collects the arrays and what each holds.
    struct Builder {
        var archive = NPZArchive()
        var descriptions: [(String, (unit: String?, what: String))] = []

        mutating func add(_ name: String, _ array: NPYArray, _ what: String, unit: String?) throws {
            try archive.add(name, array)
            descriptions.append((name, (unit, what)))
        }
    }
}
