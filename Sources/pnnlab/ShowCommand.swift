import ArgumentParser
import Foundation
import PNNStore

/// `pnnlab show RUN` — one run's settings, device and step history.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one run: device, settings and its steps.")

    @Argument(help: "Run number (see `pnnlab runs`).")
    var run: Int64

    @Flag(help: "Print one JSON object (settings parsed, steps without parameters).")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let record = try store.run(id: run)
        let steps = try store.steps(runID: run)
        if json {
            var o = RunJSON.record(record)
            o["config"] = (try? JSONSerialization.jsonObject(with: Data(record.configJSON.utf8))) ?? record.configJSON
            if let summary = record.summaryJSON, let parsed = try? JSONSerialization.jsonObject(with: Data(summary.utf8)) {
                o["summary"] = parsed
            }
            o["steps"] = steps.map { s -> [String: Any] in
                [
                    "step": s.step, "epoch": s.epoch, "loss": s.loss, "train_accuracy": JSONOut.nullable(s.trainAccuracy),
                    "test_accuracy": JSONOut.nullable(s.testAccuracy), "measurements": s.measurements,
                    "cumulative_measurements": s.cumulativeMeasurements, "wall_seconds": s.wallSeconds,
                ]
            }
            try JSONOut.print(o)
            return
        }
        let last = steps.last
        print(
            Table.keyValue([
                ("run", "\(run)"), ("status", record.status.rawValue),
                ("device", "\(record.deviceName) (\(record.identity.summary))"),
                ("firmware", record.identity.firmware), ("task", record.task), ("method", record.method),
                ("seed", "\(record.seed)"),
                ("started", RunJSON.shortDate(record.createdAt)), ("updated", RunJSON.shortDate(record.updatedAt)),
                ("steps", "\(steps.count)"), ("parameters", "\(last?.parameters.count ?? 0)"),
                ("measurements", "\(last?.cumulativeMeasurements ?? 0)"),
                ("wall time", String(format: "%.2f s", steps.reduce(0) { $0 + $1.wallSeconds })),
            ]))
        let evaluated = steps.filter { $0.testAccuracy != nil }
        if !evaluated.isEmpty {
            print("")
            print(
                Table.render(
                    header: ["epoch", "step", "loss", "train", "test", "measurements"],
                    rows: evaluated.map {
                        [
                            "\($0.epoch)", "\($0.step)", String(format: "%.4f", $0.loss), formatPercent($0.trainAccuracy),
                            formatPercent($0.testAccuracy), "\($0.cumulativeMeasurements)",
                        ]
                    }))
        }
    }
}
