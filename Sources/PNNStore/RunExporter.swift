import Foundation

/// Writes a run out for numpy, pandas or a notebook.
///
/// CSV: one header line, then one line per step:
/// `step,epoch,batch_loss,eval_loss,train_accuracy,test_accuracy,measurements,cumulative_measurements,wall_seconds,theta_0,...,theta_{P-1}`.
/// `batch_loss` is the loss on the step's batch before its update; `eval_loss` the loss on the
/// whole training data where the step ended an evaluation (`nan` elsewhere).
/// Missing accuracies and non-finite numbers are written `nan`/`inf`/`-inf`, which
/// `np.loadtxt(path, delimiter=",", skiprows=1)` and `pandas.read_csv` read as floats.
///
/// JSON (`json.load`): `{"format": "pnnlab-run", "version": 2, "run": {...metadata, "config":
/// {...}, "summary": {...}}, "evaluations": [...], "parameter_count": P, "steps": [{..., "parameters": [...]}],
/// "measurements": [{"step", "kind", "rows", "cols", "values": [...]}]}` — `measurements`
/// only when asked for; `np.array(block["values"]).reshape(block["rows"], block["cols"])`
/// rebuilds a block. JSON has no NaN or infinity: those are `null`. Numbers are written in
/// shortest round-trip form, so parsed values equal the stored ones exactly.
public struct RunExporter: Sendable {
    /// The store the runs are read from.
    public let store: RunStore

    /// An exporter reading from `store`.
    public init(store: RunStore) { self.store = store }

    /// The run's steps as CSV text; `annotations` (from PNNRuns' `RunDetail`) give the losses
    /// the store cannot read itself (without them: `batch_loss` is the stored loss, `eval_loss` `nan`).
    public func exportCSV(runID: Int64, annotations: ExportAnnotations? = nil) throws(StoreError) -> String {
        let steps = try store.steps(runID: runID)
        let a = annotations ?? .stored(steps)
        let p = steps.map(\.parameters.count).max() ?? 0
        var out =
            "step,epoch,batch_loss,eval_loss,train_accuracy,test_accuracy,measurements,cumulative_measurements,wall_seconds"
        for i in 0..<p { out += ",theta_\(i)" }
        out += "\n"
        func num(_ x: Double?) -> String { x.map { "\($0)" } ?? "nan" }
        for s in steps {
            var line = "\(s.step),\(s.epoch),\(num(a.batchLoss[s.step])),\(num(a.evalLoss[s.step])),"
            line += "\(num(s.trainAccuracy)),\(num(s.testAccuracy)),"
            line += "\(s.measurements),\(s.cumulativeMeasurements),\(num(s.wallSeconds))"
            line.reserveCapacity(line.utf8.count + 20 * p)
            for v in s.parameters { line += "," + num(v) }
            // A step with fewer parameters than the widest one is padded, keeping the table rectangular.
            for _ in s.parameters.count..<p { line += ",nan" }
            out += line + "\n"
        }
        return out
    }

    /// The run as one JSON document; `includeMeasurements` adds every measurement block;
    /// `annotations` supply the summary, the evaluations and the two losses (see `exportCSV`).
    public func exportJSON(runID: Int64, includeMeasurements: Bool = false, annotations: ExportAnnotations? = nil)
        throws(StoreError) -> Data
    {
        let run = try store.run(id: runID)
        let steps = try store.steps(runID: runID)
        let a = annotations ?? .stored(steps, summaryJSON: run.summaryJSON)
        let iso = ISO8601DateFormatter()
        var j = JSONText()
        j.beginObject()
        j.key("format"); j.value("pnnlab-run")
        j.key("version"); j.value(2)
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
        j.key("created_at"); j.value(iso.string(from: run.createdAt))
        j.key("updated_at"); j.value(iso.string(from: run.updatedAt))
        j.key("config"); j.raw(a.configJSON ?? run.configJSON)
        j.key("summary"); j.raw(a.summaryJSON)
        j.endObject()
        j.key("evaluations"); j.raw(a.evaluationsJSON ?? "[]")
        j.key("parameter_count"); j.value(steps.last?.parameters.count ?? 0)
        j.key("steps"); j.beginArray()
        for s in steps {
            j.beginObject()
            j.key("step"); j.value(s.step)
            j.key("epoch"); j.value(s.epoch)
            j.key("batch_loss"); j.value(a.batchLoss[s.step])
            j.key("eval_loss"); j.value(a.evalLoss[s.step])
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

    /// Writes `exportCSV(runID:annotations:)` to the file at `path` (replacing it).
    public func writeCSV(runID: Int64, annotations: ExportAnnotations? = nil, to path: String) throws(StoreError) {
        try Self.write(Data(try exportCSV(runID: runID, annotations: annotations).utf8), to: path)
    }

    /// Writes `exportJSON(runID:includeMeasurements:annotations:)` to the file at `path` (replacing it).
    public func writeJSON(
        runID: Int64, includeMeasurements: Bool = false, annotations: ExportAnnotations? = nil, to path: String
    ) throws(StoreError) {
        try Self.write(
            try exportJSON(runID: runID, includeMeasurements: includeMeasurements, annotations: annotations), to: path)
    }

    private static func write(_ data: Data, to path: String) throws(StoreError) {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// What an export adds to the stored rows that only the layer knowing the run kind can say
/// (the store does not read trainer checkpoints): the run's summary in the shared result
/// schema, its evaluations, and per step the batch loss and the evaluation loss.
public struct ExportAnnotations: Sendable, Equatable {
    /// One JSON object written as `run.summary` (nil: `null`).
    public var summaryJSON: String?
    /// One JSON array written as `evaluations` (nil: empty).
    public var evaluationsJSON: String?
    /// The run's settings as one JSON object written as `run.config` (nil: the stored config).
    public var configJSON: String?
    /// Loss on the step's batch before its update, by step number (absent: `nan`/`null`).
    public var batchLoss: [Int: Double]
    /// Loss on the whole training data where the step ended an evaluation, by step number.
    public var evalLoss: [Int: Double]

    public init(
        summaryJSON: String?, evaluationsJSON: String?, configJSON: String? = nil, batchLoss: [Int: Double],
        evalLoss: [Int: Double]
    ) {
        self.summaryJSON = summaryJSON
        self.evaluationsJSON = evaluationsJSON
        self.configJSON = configJSON
        self.batchLoss = batchLoss
        self.evalLoss = evalLoss
    }

    /// What the store alone knows: the stored loss column as the batch loss, no evaluation losses.
    static func stored(_ steps: [StepRecord], summaryJSON: String? = nil) -> ExportAnnotations {
        var batch: [Int: Double] = [:]
        for s in steps { batch[s.step] = s.loss }
        return ExportAnnotations(summaryJSON: summaryJSON, evaluationsJSON: nil, batchLoss: batch, evalLoss: [:])
    }
}
