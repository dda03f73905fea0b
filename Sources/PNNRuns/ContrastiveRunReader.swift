import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// A contrastive run read back from the store as the schedule records it committed.
public struct ContrastiveRun: Sendable {
    public var runID: Int64
    public var plan: ContrastivePlan
    public var status: RunStatus
    /// `start` and `slotEnd` records in commit order (gates, free outputs, errors).
    public var records: [ScheduleRecord]
    /// Gate traces inside recorded periods (kind `trace`; gates only).
    public var traces: [ScheduleRecord]

    /// Reads run `runID`; a run that is not contrastive is a clear error.
    public static func load(runID: Int64, store: RunStore) throws -> ContrastiveRun {
        let run = try store.run(id: runID)
        guard let plan = ContrastivePlan.from(json: run.configJSON) else {
            throw TrainingError.invalidConfig(
                "run \(runID) is a \(run.method) run on \(run.task), not a contrastive (coupled/overclamp/ep) run")
        }
        let blocks = try store.measurements(runID: runID, kinds: ["outputs", "trace"])
        var outputsByStep: [Int: MeasurementBlock] = [:]
        var traces: [ScheduleRecord] = []
        for stored in blocks {
            if stored.block.kind == "outputs" { outputsByStep[stored.step] = stored.block; continue }
            let b = stored.block
            for r in 0..<b.rows {
                let row = Array(b.values[(r * b.cols)..<((r + 1) * b.cols)])
                traces.append(
                    ScheduleRecord(
                        kind: .trace, period: Int(row[0]), task: Int(row[1]), time: row[2], gates: Array(row[3...]),
                        outputs: [], errors: [], r0: 0, steps: 0, skipped: 0))
            }
        }
        let decoder = JSONDecoder()
        var records: [ScheduleRecord] = []
        for step in try store.steps(runID: runID) {
            let c = try decoder.decode(ContrastiveCheckpoint.self, from: Data(step.checkpointJSON.utf8))
            var outputs: [[[Double]]] = []
            if let block = outputsByStep[step.step] {
                var row = 0
                for count in plan.taskPointCounts(records: c.errors.count) {
                    outputs.append(
                        (0..<count).map { _ in
                            defer { row += 1 }
                            return Array(block.values[(row * block.cols)..<((row + 1) * block.cols)])
                        })
                }
            }
            records.append(
                ScheduleRecord(
                    kind: c.kind, period: c.period, task: c.task, time: c.time, gates: step.parameters, outputs: outputs,
                    errors: c.errors, r0: c.r0, steps: c.steps, skipped: c.skipped))
        }
        return ContrastiveRun(runID: runID, plan: plan, status: run.status, records: records, traces: traces)
    }
}

extension ContrastivePlan {
    /// Points per task of the plan's task (from the task data; the encoding does not change counts).
    func taskPointCounts(records tasks: Int) -> [Int] {
        guard let groups = try? ContrastiveTasks.points(task), groups.count == tasks else { return [] }
        return groups.map { $0.points.count }
    }
}
