import ArgumentParser
import Foundation
import PNNStore

/// `pnnlab runs` — list recorded runs, newest first.
struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List recorded runs, newest first.")

    @Flag(help: "Print a JSON array.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let runs = try store.runs()
        if json {
            try JSONOut.print(runs.map(RunJSON.summary))
            return
        }
        if runs.isEmpty {
            print("no runs in \(storeOptions.path)")
            return
        }
        let rows = runs.map { s -> [String] in
            [
                "\(s.run.id ?? 0)", s.run.status.rawValue, s.run.deviceName, s.run.task, s.run.method, "\(s.run.seed)",
                "\(s.stepCount)", s.lastLoss.map { String(format: "%.4f", $0) } ?? "–",
                formatPercent(s.lastTrainAccuracy), formatPercent(s.lastTestAccuracy), "\(s.totalMeasurements)",
                RunJSON.shortDate(s.run.createdAt),
            ]
        }
        print(
            Table.render(
                header: [
                    "run", "status", "device", "task", "method", "seed", "steps", "loss", "train", "test", "measurements",
                    "started",
                ],
                rows: rows))
    }
}

/// JSON shapes shared by `runs`, `show` and `train`.
enum RunJSON {
    static func summary(_ s: RunSummary) -> [String: Any] {
        var o = record(s.run)
        o["steps"] = s.stepCount
        o["final_loss"] = JSONOut.nullable(s.lastLoss)
        o["train_accuracy"] = JSONOut.nullable(s.lastTrainAccuracy)
        o["test_accuracy"] = JSONOut.nullable(s.lastTestAccuracy)
        o["measurements"] = s.totalMeasurements
        return o
    }

    static func record(_ r: RunRecord) -> [String: Any] {
        [
            "run": r.id ?? 0, "status": r.status.rawValue, "device": r.deviceName, "task": r.task, "method": r.method,
            "seed": r.seed, "family": r.identity.family, "model": r.identity.model, "serial": r.identity.serial,
            "firmware": r.identity.firmware, "created_at": JSONOut.date(r.createdAt), "updated_at": JSONOut.date(r.updatedAt),
        ]
    }

    static func shortDate(_ d: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }
}
