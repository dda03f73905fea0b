import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// The one result of a run, as `train --json`, `runs --json`, `show --json` and the export's
/// summary print it (through `ResultJSON`: snake_case keys, ISO-8601 times). Built from the
/// store alone, so the same run reads the same everywhere.
///
/// Loss names: `batch_loss` is the loss on a step's batch before its update (Jacobian runs
/// only); `eval_loss` is the loss on the whole training split when it was evaluated (for
/// contrastive runs: the mean task error at a record, V²); `final_loss` is the last `eval_loss`.
public struct RunResult: Sendable, Equatable, Encodable {
    /// Which trainer recorded the run.
    public enum Kind: String, Sendable, Codable {
        /// Jacobian-based training (`gradient`, `gauss-newton`, `spsa`...): epochs of batches.
        case jacobian
        /// Contrastive learning (`coupled`, `overclamp`, `ep`): periods of task slots.
        case contrastive
    }

    public var run: Int64
    public var kind: Kind
    public var status: String
    public var device: String
    public var family: String
    public var model: String
    public var serial: String
    public var firmware: String
    public var task: String
    public var method: String
    public var seed: UInt64
    public var createdAt: Date
    public var updatedAt: Date
    /// Committed steps (contrastive runs: committed records).
    public var steps: Int
    /// Completed epochs (Jacobian runs) or periods (contrastive runs).
    public var epochs: Int
    /// Accuracy on the training data at the last evaluation, 0…1 (nil: none, or a regression task).
    public var trainAccuracy: Double?
    /// Accuracy on the test split at the last evaluation, 0…1 (nil: none, contrastive runs have no split).
    public var testAccuracy: Double?
    /// The last evaluation loss (`eval_loss` of the last evaluated step), in `loss_unit`.
    public var finalLoss: Double?
    /// Unit of `final_loss`/`eval_loss`: `nats` (softmax cross-entropy), `uA^2` (least squares), `V^2` (task error),
    /// `output^2` (a regression, ½·MSE in the device's output unit).
    public var lossUnit: String
    /// Input vectors applied to the device over the run (contrastive runs: learning steps).
    public var measurements: Int
    /// Wall time of all committed steps, seconds.
    public var wallSeconds: Double
    /// Contrastive runs: `on-board` or `host-computed` (nil for Jacobian runs and before the run ends).
    public var mode: String?
    /// Test accuracy, 0…1, of the same architecture, encoding and split trained digitally with
    /// exact arithmetic (`DigitalCeiling`): what `test_accuracy` is chasing. For `readout` runs
    /// it is the readout ceiling below. nil for contrastive runs (no held-out split; see docs)
    /// and for runs recorded before stores kept it.
    public var digitalCeiling: Double?
    /// `readout` runs: test accuracy of the same readout trained on ideal outputs or raw inputs.
    public var readoutCeiling: Double? = nil
    /// `readout` runs: `ideal-outputs` or `raw-inputs`.
    public var readoutCeilingSource: String? = nil
    /// The calibration profile the device had when the run was created (`pnnlab profiles
    /// show ID`); nil when it had none.
    public var calibrationId: Int64? = nil
    /// Regression tasks (`multiply`): RMS error of output 0 on the test grid at the last
    /// evaluation, in the output unit (accuracies are then null).
    public var rmsError: Double? = nil
    /// Regression tasks: RMS error on the training points.
    public var trainRmsError: Double? = nil

    enum CodingKeys: String, CodingKey {
        case run, kind, status, device, family, model, serial, firmware, task, method, seed, createdAt, updatedAt, steps
        case epochs, trainAccuracy, testAccuracy, finalLoss, lossUnit, measurements, wallSeconds, mode, digitalCeiling
        case readoutCeiling, readoutCeilingSource, calibrationId, rmsError, trainRmsError
    }

    /// Encodes every key, absent values as `null` (so every run kind has the same keys);
    /// `readout` runs add `readout_ceiling` and `readout_ceiling_source`, regression runs
    /// `rms_error` and `train_rms_error`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run, forKey: .run)
        try c.encode(kind, forKey: .kind)
        try c.encode(status, forKey: .status)
        try c.encode(device, forKey: .device)
        try c.encode(family, forKey: .family)
        try c.encode(model, forKey: .model)
        try c.encode(serial, forKey: .serial)
        try c.encode(firmware, forKey: .firmware)
        try c.encode(task, forKey: .task)
        try c.encode(method, forKey: .method)
        try c.encode(seed, forKey: .seed)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(steps, forKey: .steps)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(trainAccuracy, forKey: .trainAccuracy)
        try c.encode(testAccuracy, forKey: .testAccuracy)
        try c.encode(finalLoss, forKey: .finalLoss)
        try c.encode(lossUnit, forKey: .lossUnit)
        try c.encode(measurements, forKey: .measurements)
        try c.encode(wallSeconds, forKey: .wallSeconds)
        try c.encode(mode, forKey: .mode)
        try c.encode(digitalCeiling, forKey: .digitalCeiling)
        try c.encode(calibrationId, forKey: .calibrationId)
        if readoutCeiling != nil {
            try c.encode(readoutCeiling, forKey: .readoutCeiling)
            try c.encode(readoutCeilingSource, forKey: .readoutCeilingSource)
        }
        if rmsError != nil {
            try c.encode(rmsError, forKey: .rmsError)
            try c.encode(trainRmsError, forKey: .trainRmsError)
        }
    }
}

/// One evaluation of a run: the end of an evaluated epoch (Jacobian runs) or a recorded
/// period (contrastive runs; period 0 is the state before learning).
public struct EvaluationRow: Sendable, Equatable, Encodable {
    /// Epoch (Jacobian) or period (contrastive) number, from 1 (0: before learning).
    public var index: Int
    public var kind: RunResult.Kind
    /// The step that ended it.
    public var step: Int
    /// Loss on the whole training data at this point, in the run's `loss_unit`.
    public var evalLoss: Double?
    public var trainAccuracy: Double?
    public var testAccuracy: Double?
    /// Contrastive runs: error per task, V².
    public var taskErrorsV2: [Double]?
    /// Input vectors applied since the run started.
    public var cumulativeMeasurements: Int
    /// Wall time of the run up to this step, seconds.
    public var wallSeconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, period, step, evalLoss, trainAccuracy, testAccuracy, taskErrorsV2, cumulativeMeasurements, wallSeconds
    }

    /// `epoch` for Jacobian runs, `period` and `task_errors_v2` for contrastive runs; absent values are `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: kind == .jacobian ? .epoch : .period)
        try c.encode(step, forKey: .step)
        try c.encode(evalLoss, forKey: .evalLoss)
        try c.encode(trainAccuracy, forKey: .trainAccuracy)
        try c.encode(testAccuracy, forKey: .testAccuracy)
        if kind == .contrastive { try c.encode(taskErrorsV2 ?? [], forKey: .taskErrorsV2) }
        try c.encode(cumulativeMeasurements, forKey: .cumulativeMeasurements)
        try c.encode(wallSeconds, forKey: .wallSeconds)
    }
}

/// `pnnlab show --json`: the run's result, its stored settings and its evaluations.
public struct RunDetail: Sendable, Equatable, Encodable {
    public var result: RunResult
    /// The stored plan (task, method, seed, device, trainer settings or schedule, twin), snake_case.
    public var settings: JSONValue
    /// One row per evaluated epoch or recorded period, in order.
    public var evaluations: [EvaluationRow]
    /// Per committed step: the batch loss (Jacobian runs) and the evaluation loss where evaluated.
    public var stepLosses: [StepLoss]

    enum CodingKeys: String, CodingKey { case settings, evaluations }

    /// The result's keys at the top level, then `settings` and `evaluations`.
    public func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(settings, forKey: .settings)
        try c.encode(evaluations, forKey: .evaluations)
    }

    /// The export's additions to the stored rows (summary in this schema, the two losses per step).
    public func exportAnnotations() throws -> ExportAnnotations {
        var batch: [Int: Double] = [:]
        var eval: [Int: Double] = [:]
        for s in stepLosses {
            if let b = s.batchLoss { batch[s.step] = b }
            if let e = s.evalLoss { eval[s.step] = e }
        }
        return ExportAnnotations(
            summaryJSON: try ResultJSON.string(result), evaluationsJSON: try ResultJSON.string(evaluations),
            configJSON: settings.jsonString(), batchLoss: batch, evalLoss: eval)
    }
}

/// The two losses of one committed step.
public struct StepLoss: Sendable, Equatable {
    public var step: Int
    /// Loss on the step's batch before the update (nil for contrastive records).
    public var batchLoss: Double?
    /// Loss on the whole training data when this step ended an evaluation.
    public var evalLoss: Double?
}

extension RunResult {
    /// The result of run `runID` as recorded in `store`.
    public static func load(runID: Int64, store: RunStore) throws -> RunResult {
        try RunDetail.load(runID: runID, store: store).result
    }

    /// Every run, newest first (what `pnnlab runs --json` prints).
    public static func all(store: RunStore) throws -> [RunResult] {
        try store.runs().map { s in try load(runID: s.run.id ?? 0, store: store) }
    }
}

extension RunDetail {
    /// Result, settings and evaluations of run `runID`.
    public static func load(runID: Int64, store: RunStore) throws -> RunDetail {
        let record = try store.run(id: runID)
        let steps = try store.steps(runID: runID)
        if ContrastivePlan.from(json: record.configJSON) != nil { return contrastive(record, steps: steps) }
        if DeepPlan.from(json: record.configJSON) != nil { return deep(record, steps: steps) }
        return try jacobian(record, steps: steps)
    }

    static func base(_ r: RunRecord, kind: RunResult.Kind, steps: [StepRecord], lossUnit: String) -> RunResult {
        RunResult(
            run: r.id ?? 0, kind: kind, status: r.status.rawValue, device: r.deviceName, family: r.identity.family,
            model: r.identity.model, serial: r.identity.serial, firmware: r.identity.firmware, task: r.task, method: r.method,
            seed: r.seed, createdAt: r.createdAt, updatedAt: r.updatedAt, steps: steps.count, epochs: 0,
            trainAccuracy: steps.last { $0.trainAccuracy != nil }?.trainAccuracy,
            testAccuracy: steps.last { $0.testAccuracy != nil }?.testAccuracy, finalLoss: nil, lossUnit: lossUnit,
            measurements: steps.last?.cumulativeMeasurements ?? 0, wallSeconds: steps.reduce(0) { $0 + $1.wallSeconds },
            mode: nil, digitalCeiling: kind == .jacobian ? r.digitalCeiling : nil, calibrationId: r.calibrationId)
    }

    static func settings(_ configJSON: String) -> JSONValue {
        guard let parsed = try? JSONValue(parsing: Data(configJSON.utf8)) else { return .string(configJSON) }
        return snakeCased(parsed)
    }

    /// Object keys converted to snake_case (`learningRate` → `learning_rate`), recursively.
    /// Keys that already hold an underscore (`g_max_uS`: a unit suffix) are kept as they are.
    static func snakeCased(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, x) in o { out[snakeCase(k)] = snakeCased(x) }
            return .object(out)
        case .array(let a): return .array(a.map(snakeCased))
        default: return v
        }
    }

    static func snakeCase(_ key: String) -> String {
        if key.contains("_") { return key }
        var out = ""
        for ch in key {
            if ch.isUppercase {
                if !out.isEmpty { out += "_" }
                out += ch.lowercased()
            } else {
                out.append(ch == "-" ? "_" : ch)
            }
        }
        return out
    }

    static func jacobian(_ record: RunRecord, steps: [StepRecord]) throws -> RunDetail {
        let plan = try? RunPlan.from(json: record.configJSON)
        let regression = plan?.task.isRegression ?? false
        let unit = regression ? "output^2" : plan?.trainer.readout == .leastSquares ? "uA^2" : "nats"
        var result = base(record, kind: .jacobian, steps: steps, lossUnit: unit)
        let decoder = JSONDecoder()
        let (rows, losses) = evaluationTable(steps) { (try? decoder.decode(TrainerState.self, from: $0))?.lastLoss }
        result.finalLoss = rows.last?.evalLoss
        if let last = steps.last, let state = try? decoder.decode(TrainerState.self, from: Data(last.checkpointJSON.utf8)) {
            result.epochs = state.epoch
            result.readoutCeiling = state.readoutCeiling?.testAccuracy
            result.readoutCeilingSource = state.readoutCeiling?.source
            // A readout run's digital ceiling is its readout ceiling (the same readout on ideal outputs).
            if let ceiling = state.readoutCeiling { result.digitalCeiling = ceiling.testAccuracy }
            if let rms = state.lastTestRMSError {
                result.rmsError = rms
                result.trainRmsError = state.lastTrainRMSError
                result.finalLoss = state.lastLoss
            }
        }
        return RunDetail(result: result, settings: settings(record.configJSON), evaluations: rows, stepLosses: losses)
    }

    /// The evaluation table and per-step losses of a run recorded step by step with
    /// evaluations on some steps; `evalLoss` reads an evaluated step's loss from its checkpoint.
    static func evaluationTable(_ steps: [StepRecord], evalLoss: (Data) -> Double?) -> (
        rows: [EvaluationRow], losses: [StepLoss]
    ) {
        var rows: [EvaluationRow] = []
        var losses: [StepLoss] = []
        var wall = 0.0
        for s in steps {
            wall += s.wallSeconds
            var eval: Double?
            if s.trainAccuracy != nil || s.testAccuracy != nil {
                eval = evalLoss(Data(s.checkpointJSON.utf8))
                rows.append(
                    EvaluationRow(
                        index: s.epoch, kind: .jacobian, step: s.step, evalLoss: eval, trainAccuracy: s.trainAccuracy,
                        testAccuracy: s.testAccuracy, taskErrorsV2: nil, cumulativeMeasurements: s.cumulativeMeasurements,
                        wallSeconds: wall))
            }
            losses.append(StepLoss(step: s.step, batchLoss: s.loss, evalLoss: eval))
        }
        return (rows, losses)
    }

    static func contrastive(_ record: RunRecord, steps: [StepRecord]) -> RunDetail {
        var result = base(record, kind: .contrastive, steps: steps, lossUnit: "V^2")
        let decoder = JSONDecoder()
        var rows: [EvaluationRow] = []
        var losses: [StepLoss] = []
        var wall = 0.0
        var completedPeriods = 0
        for s in steps {
            wall += s.wallSeconds
            losses.append(StepLoss(step: s.step, batchLoss: nil, evalLoss: s.loss))
            guard let c = try? decoder.decode(ContrastiveCheckpoint.self, from: Data(s.checkpointJSON.utf8)) else { continue }
            let endsPeriod = c.kind == .slotEnd && c.task == max(c.errors.count - 1, 0)
            guard c.kind == .start || endsPeriod else { continue }
            if endsPeriod { completedPeriods = c.period + 1 }
            rows.append(
                EvaluationRow(
                    index: c.kind == .start ? 0 : c.period + 1, kind: .contrastive, step: s.step, evalLoss: s.loss,
                    trainAccuracy: s.trainAccuracy, testAccuracy: s.testAccuracy, taskErrorsV2: c.errors,
                    cumulativeMeasurements: s.cumulativeMeasurements, wallSeconds: wall))
        }
        result.finalLoss = steps.last?.loss
        result.epochs = completedPeriods
        // Only runs with a held-out split (Iris) measure one; seed 002's tasks have none.
        if let summary = record.summaryJSON, let parsed = try? JSONValue(parsing: Data(summary.utf8)),
            case .string(let mode)? = parsed["mode"]
        {
            result.mode = mode
        }
        return RunDetail(result: result, settings: settings(record.configJSON), evaluations: rows, stepLosses: losses)
    }
}
