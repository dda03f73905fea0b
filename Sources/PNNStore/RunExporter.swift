import Foundation

/// Writes a run out for numpy, pandas or a notebook: CSV (one line per step, parameters
/// as `theta_i` columns; `np.loadtxt(f, delimiter=",", skiprows=1)` reads it) or JSON
/// (metadata, parsed settings, steps with parameter arrays, optional measurement blocks).
public struct RunExporter: Sendable {
    public let store: RunStore

    public init(store: RunStore) { self.store = store }

    /// CSV text; empty accuracies are written as `nan`.
    public func exportCSV(runID: Int64) throws(StoreError) -> String {
        _ = try store.run(id: runID)
        let steps = try store.steps(runID: runID)
        let p = steps.first?.parameters.count ?? 0
        var out = "step,epoch,loss,train_accuracy,test_accuracy,measurements,cumulative_measurements,wall_seconds"
        for i in 0..<p { out += ",theta_\(i)" }
        out += "\n"
        func num(_ x: Double?) -> String { x.map { "\($0)" } ?? "nan" }
        for s in steps {
            var line = "\(s.step),\(s.epoch),\(s.loss),\(num(s.trainAccuracy)),\(num(s.testAccuracy)),\(s.measurements),"
            line += "\(s.cumulativeMeasurements),\(s.wallSeconds)"
            for v in s.parameters { line += ",\(v)" }
            out += line + "\n"
        }
        return out
    }

    /// JSON document; `includeMeasurements` adds every measurement block.
    public func exportJSON(runID: Int64, includeMeasurements: Bool = false) throws(StoreError) -> Data {
        let run = try store.run(id: runID)
        let steps = try store.steps(runID: runID)
        func parsed(_ text: String?) -> Any {
            guard let text, let v = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return text ?? NSNull() }
            return v
        }
        func finite(_ x: Double?) -> Any { x.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }
        var doc: [String: Any] = [
            "run": run.id ?? 0, "device": run.deviceName, "family": run.identity.family, "model": run.identity.model,
            "serial": run.identity.serial, "firmware": run.identity.firmware, "task": run.task, "method": run.method,
            "seed": run.seed, "status": run.status.rawValue, "created_at": run.createdAt.timeIntervalSince1970,
            "config": parsed(run.configJSON), "summary": parsed(run.summaryJSON),
            "steps": steps.map { s -> [String: Any] in
                [
                    "step": s.step, "epoch": s.epoch, "loss": finite(s.loss), "train_accuracy": finite(s.trainAccuracy),
                    "test_accuracy": finite(s.testAccuracy), "measurements": s.measurements,
                    "cumulative_measurements": s.cumulativeMeasurements, "wall_seconds": s.wallSeconds,
                    "parameters": s.parameters.map { $0.isFinite ? $0 as Any : NSNull() },
                ]
            },
        ]
        if includeMeasurements {
            doc["measurements"] = try store.measurements(runID: runID).map { m -> [String: Any] in
                ["step": m.step, "kind": m.block.kind, "rows": m.block.rows, "cols": m.block.cols,
                 "values": m.block.values.map { $0.isFinite ? $0 as Any : NSNull() }]
            }
        }
        do {
            return try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted])
        } catch {
            throw .database("cannot encode run \(runID) as JSON: \(error)")
        }
    }
}
