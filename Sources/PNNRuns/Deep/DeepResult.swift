import Foundation
import PNNCore
import PNNStore
import PNNTraining

extension RunDetail {
    /// A deep run's result and evaluations (one evaluation per evaluated epoch, and an
    /// in-silico run's deployment).
    static func deep(_ record: RunRecord, steps: [StepRecord]) -> RunDetail {
        var result = base(record, kind: .jacobian, steps: steps, lossUnit: "nats")
        let decoder = JSONDecoder()
        let (rows, losses) = evaluationTable(steps) { (try? decoder.decode(DeepState.self, from: $0))?.lastLoss }
        result.finalLoss = rows.last?.evalLoss
        if let last = steps.last, let state = try? decoder.decode(DeepState.self, from: Data(last.checkpointJSON.utf8)) {
            result.epochs = state.epoch
        }
        return RunDetail(result: result, settings: settings(record.configJSON), evaluations: rows, stepLosses: losses)
    }
}

/// `pnnlab train --layers … --json`: the run's result (the same keys as every run) plus the
/// cascade: widths, measurements per unit, and the accuracy of the units' ideal models at
/// the final parameter targets (for in-silico runs the simulated side of the sim-to-real gap).
public struct DeepRunResult: Sendable, Encodable {
    public var result: RunResult
    public var layers: [Int]
    public var unitMeasurements: [Int]
    /// Of `measurements`, those spent measuring accuracy rather than training.
    public var evaluationMeasurements: Int
    public var modelTestAccuracy: Double?
    public var modelTrainAccuracy: Double?
    /// Per unit, where the model it trained through came from (`--model-profile`: the source
    /// and which device and calibration; nil: the family's ideal model); nil when every unit
    /// used its ideal model.
    public var modelProfiles: [JSONValue?]?

    enum CodingKeys: String, CodingKey {
        case layers, unitMeasurements, evaluationMeasurements, modelTestAccuracy, modelTrainAccuracy, modelProfiles
    }

    public func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers)
        try c.encode(unitMeasurements, forKey: .unitMeasurements)
        try c.encode(evaluationMeasurements, forKey: .evaluationMeasurements)
        try c.encode(modelTestAccuracy, forKey: .modelTestAccuracy)
        try c.encode(modelTrainAccuracy, forKey: .modelTrainAccuracy)
        try c.encodeIfPresent(modelProfiles, forKey: .modelProfiles)
    }

    /// The deep run `runID` as recorded in `store`.
    public static func load(runID: Int64, store: RunStore) throws -> DeepRunResult {
        let record = try store.run(id: runID)
        guard let plan = DeepPlan.from(json: record.configJSON) else { throw RunError.invalid("run \(runID) is not a deep run") }
        let result = try RunResult.load(runID: runID, store: store)
        let state = try store.lastStep(runID: runID).flatMap {
            try? JSONDecoder().decode(DeepState.self, from: Data($0.checkpointJSON.utf8))
        }
        return DeepRunResult(
            result: result, layers: plan.layers,
            unitMeasurements: state?.unitMeasurements ?? [Int](repeating: 0, count: plan.layers.count),
            evaluationMeasurements: state?.evaluationMeasurements ?? 0,
            modelTestAccuracy: state?.modelTestAccuracy, modelTrainAccuracy: state?.modelTrainAccuracy,
            modelProfiles: plan.modelProfiles?.map { entry in
                entry.map { e -> JSONValue in
                    guard case .object(var o) = e.profile else { return e.profile }
                    o["source"] = .string(e.source)
                    return .object(o)
                }
            })
    }
}
