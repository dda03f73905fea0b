import Foundation

/// Writes a run out for numpy, pandas or a notebook.
///
/// CSV: one header line, then one line per step:
/// `step,epoch,loss,train_accuracy,test_accuracy,measurements,cumulative_measurements,wall_seconds,theta_0,...,theta_{P-1}`.
/// Missing accuracies and non-finite numbers are written `nan`/`inf`/`-inf`, which
/// `np.loadtxt(path, delimiter=",", skiprows=1)` and `pandas.read_csv` read as floats.
///
/// JSON (`json.load`): `{"format": "pnnlab-run", "version": 1, "run": {...metadata, "config":
/// {...}, "summary": {...}}, "parameter_count": P, "steps": [{..., "parameters": [...]}],
/// "measurements": [{"step", "kind", "rows", "cols", "values": [...]}]}` — `measurements`
/// only when asked for; `np.array(block["values"]).reshape(block["rows"], block["cols"])`
/// rebuilds a block. JSON has no NaN or infinity: those are `null`. Numbers are written in
/// shortest round-trip form, so parsed values equal the stored ones exactly.
public struct RunExporter: Sendable {
    /// The store the runs are read from.
    public let store: RunStore

    /// An exporter reading from `store`.
    public init(store: RunStore) { self.store = store }

    /// The run's steps as CSV text.
    public func exportCSV(runID: Int64) throws(StoreError) -> String {
        let steps = try store.steps(runID: runID)
        let p = steps.map(\.parameters.count).max() ?? 0
        var out = "step,epoch,loss,train_accuracy,test_accuracy,measurements,cumulative_measurements,wall_seconds"
        for i in 0..<p { out += ",theta_\(i)" }
        out += "\n"
        func num(_ x: Double?) -> String { x.map { "\($0)" } ?? "nan" }
        for s in steps {
            var line = "\(s.step),\(s.epoch),\(num(s.loss)),\(num(s.trainAccuracy)),\(num(s.testAccuracy)),"
            line += "\(s.measurements),\(s.cumulativeMeasurements),\(num(s.wallSeconds))"
            line.reserveCapacity(line.utf8.count + 20 * p)
            for v in s.parameters { line += "," + num(v) }
            // A step with fewer parameters than the widest one is padded, keeping the table rectangular.
            for _ in s.parameters.count..<p { line += ",nan" }
            out += line + "\n"
        }
        return out
    }

    /// The run as one JSON document; `includeMeasurements` adds every measurement block.
    public func exportJSON(runID: Int64, includeMeasurements: Bool = false) throws(StoreError) -> Data {
        let run = try store.run(id: runID)
        let steps = try store.steps(runID: runID)
        var j = JSONText()
        j.beginObject()
        j.key("format"); j.value("pnnlab-run")
        j.key("version"); j.value(1)
        j.key("run"); j.beginObject()
        j.key("id"); j.value(runID)
        j.key("device"); j.value(run.deviceName)
        j.key("family"); j.value(run.identity.family)
        j.key("model"); j.value(run.identity.model)
        j.key("serial"); j.value(run.identity.serial)
        j.key("firmware"); j.value(run.identity.firmware)
        j.key("task"); j.value(run.task)
        j.key("method"); j.value(run.method)
        j.key("seed"); j.value(run.seed)
        j.key("status"); j.value(run.status.rawValue)
        j.key("created_at"); j.value(run.createdAt.timeIntervalSince1970)
        j.key("updated_at"); j.value(run.updatedAt.timeIntervalSince1970)
        j.key("config"); j.raw(run.configJSON)
        j.key("summary"); j.raw(run.summaryJSON)
        j.endObject()
        j.key("parameter_count"); j.value(steps.last?.parameters.count ?? 0)
        j.key("steps"); j.beginArray()
        for s in steps {
            j.beginObject()
            j.key("step"); j.value(s.step)
            j.key("epoch"); j.value(s.epoch)
            j.key("loss"); j.value(s.loss)
            j.key("train_accuracy"); j.value(s.trainAccuracy)
            j.key("test_accuracy"); j.value(s.testAccuracy)
            j.key("measurements"); j.value(s.measurements)
            j.key("cumulative_measurements"); j.value(s.cumulativeMeasurements)
            j.key("wall_seconds"); j.value(s.wallSeconds)
            j.key("parameters"); j.array(s.parameters)
            j.endObject()
        }
        j.endArray()
        if includeMeasurements {
            j.key("measurements"); j.beginArray()
            for m in try store.measurements(runID: runID) {
                j.beginObject()
                j.key("step"); j.value(m.step)
                j.key("kind"); j.value(m.block.kind)
                j.key("rows"); j.value(m.block.rows)
                j.key("cols"); j.value(m.block.cols)
                j.key("values"); j.array(m.block.values)
                j.endObject()
            }
            j.endArray()
        }
        j.endObject()
        return Data((j.text + "\n").utf8)
    }

    /// Writes `exportCSV(runID:)` to the file at `path` (replacing it).
    public func writeCSV(runID: Int64, to path: String) throws(StoreError) {
        try Self.write(Data(try exportCSV(runID: runID).utf8), to: path)
    }

    /// Writes `exportJSON(runID:includeMeasurements:)` to the file at `path` (replacing it).
    public func writeJSON(runID: Int64, includeMeasurements: Bool = false, to path: String) throws(StoreError) {
        try Self.write(try exportJSON(runID: runID, includeMeasurements: includeMeasurements), to: path)
    }

    private static func write(_ data: Data, to path: String) throws(StoreError) {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
