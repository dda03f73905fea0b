import Foundation
import Testing

@testable import PNNStore

@Suite("Export for numpy")
struct ExportTests {
    /// A run with 3 steps of 4 parameters (step 2 has a NaN parameter) and one 2×2 block each.
    func recordedRun(_ store: RunStore) throws -> Int64 {
        let id = try store.createRun(newRun(seed: .max, config: #"{"epochs": 3, "twin": {"noise": 0.01}}"#))
        for n in 1...3 {
            let parameters = [0.1 * Double(n), -Double(n), n == 2 ? .nan : 1e-300, Double(n) / 3]
            try store.appendStep(
                step(id, n, parameters: parameters),
                measurements: [MeasurementBlock(kind: "outputs", rows: 2, cols: 2, values: [1, 2, 3, Double(n)])])
        }
        try store.setStatus(runID: id, .completed, summaryJSON: #"{"test_accuracy": 0.9}"#)
        return id
    }

    @Test func csvHasAHeaderThetaColumnsAndOneLinePerStep() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try recordedRun(store)
        let lines = try RunExporter(store: store).exportCSV(runID: id).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 + 2, "header, 3 steps, empty remainder after the final newline")
        #expect(
            lines[0]
                == "step,epoch,batch_loss,eval_loss,train_accuracy,test_accuracy,measurements,cumulative_measurements,wall_seconds,theta_0,theta_1,theta_2,theta_3"
        )
        let rows = lines[1...3].map { $0.split(separator: ",").map(String.init) }
        #expect(rows.allSatisfy { $0.count == 9 + 4 })
        #expect(rows.map { $0[0] } == ["1", "2", "3"])
        #expect(rows[0][4] == "nan" && rows[1][4] == "0.5", "a missing accuracy is nan")
        #expect(rows[1][3] == "nan", "no evaluation loss without annotations")
        #expect(rows[1][11] == "nan")
        let stored = try store.steps(runID: id)
        for (row, s) in zip(rows, stored) {
            #expect(
                row[9...].map { Double($0)!.bitPattern } == s.parameters.map(\.bitPattern), "theta columns parse back exactly")
        }
    }

    @Test func jsonParsesWithTheRightCountsAndExactNumbers() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try recordedRun(store)
        let exporter = RunExporter(store: store)
        let data = try exporter.exportJSON(runID: id, includeMeasurements: true)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["format"] as? String == "pnnlab-run")
        #expect(json["parameter_count"] as? Int == 4)
        let run = try #require(json["run"] as? [String: Any])
        #expect(run["status"] as? String == "completed")
        #expect((run["config"] as? [String: Any])?["epochs"] as? Int == 3, "config is an object, not a string")
        #expect(((run["config"] as? [String: Any])?["twin"] as? [String: Any])?["noise"] as? Double == 0.01)
        #expect((run["summary"] as? [String: Any])?["test_accuracy"] as? Double == 0.9)
        #expect("\(run["seed"] ?? "")" == "\(UInt64.max)")

        let steps = try #require(json["steps"] as? [[String: Any]])
        #expect(steps.count == 3)
        #expect(steps.map { $0["step"] as? Int } == [1, 2, 3])
        #expect(steps[0]["test_accuracy"] is NSNull && steps[1]["test_accuracy"] as? Double == 0.4)
        let firstLoss = try store.steps(runID: id)[0].loss
        #expect(steps[0]["loss"] == nil && steps[0]["batch_loss"] as? Double == firstLoss)
        #expect(steps[0]["eval_loss"] is NSNull)
        #expect((run["created_at"] as? String).flatMap(ISO8601DateFormatter().date(from:)) != nil, "ISO-8601 times")
        let p1 = try #require(steps[0]["parameters"] as? [Double])
        #expect(p1 == (try store.steps(runID: id)[0].parameters), "numbers round-trip exactly")
        #expect((steps[1]["parameters"] as? [Any])?[2] is NSNull, "NaN becomes null")

        let blocks = try #require(json["measurements"] as? [[String: Any]])
        #expect(blocks.count == 3)
        #expect(blocks[2]["values"] as? [Double] == [1, 2, 3, 3] && blocks[2]["rows"] as? Int == 2)
        let annotated = try exporter.exportJSON(
            runID: id,
            annotations: ExportAnnotations(
                summaryJSON: #"{"final_loss": 0.25}"#, evaluationsJSON: #"[{"epoch": 1}]"#, batchLoss: [1: 0.5],
                evalLoss: [2: 0.25]))
        let a = try #require(try JSONSerialization.jsonObject(with: annotated) as? [String: Any])
        #expect(((a["run"] as? [String: Any])?["summary"] as? [String: Any])?["final_loss"] as? Double == 0.25)
        #expect((a["evaluations"] as? [[String: Any]])?.count == 1)
        let annotatedSteps = try #require(a["steps"] as? [[String: Any]])
        #expect(annotatedSteps[0]["batch_loss"] as? Double == 0.5 && annotatedSteps[1]["batch_loss"] is NSNull)
        #expect(annotatedSteps[1]["eval_loss"] as? Double == 0.25 && annotatedSteps[0]["eval_loss"] is NSNull)
        let lean = try #require(try JSONSerialization.jsonObject(with: exporter.exportJSON(runID: id)) as? [String: Any])
        #expect(lean["measurements"] == nil)
    }

    @Test func exportsWriteFilesAndReportUnknownRuns() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try recordedRun(store)
        let exporter = RunExporter(store: store)
        let csvPath = scratch.path("run.csv")
        try exporter.writeCSV(runID: id, to: csvPath)
        #expect(try String(contentsOfFile: csvPath, encoding: .utf8) == (try exporter.exportCSV(runID: id)))
        let jsonPath = scratch.path("run.json")
        try exporter.writeJSON(runID: id, to: jsonPath)
        #expect(try Data(contentsOf: URL(fileURLWithPath: jsonPath)) == (try exporter.exportJSON(runID: id)))
        #expect(throws: StoreError.runNotFound(id: 9, path: store.path)) { try exporter.exportCSV(runID: 9) }
        #expect(throws: StoreError.self) { try exporter.writeCSV(runID: id, to: scratch.path("missing/folder/run.csv")) }
    }
}
