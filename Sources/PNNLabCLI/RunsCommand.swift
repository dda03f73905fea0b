import ArgumentParser
import Foundation
import PNNRuns
import PNNStore

/// `pnnlab runs` — list recorded runs, newest first.
struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List recorded runs, newest first.")

    @Flag(help: "Print a JSON array (one result per run, the same keys as `train --json`).")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let results = try RunResult.all(store: store)
        if json {
            try Output.printJSON(results)
            return
        }
        if results.isEmpty {
            try Output.print("no runs in \(storeOptions.path)")
            return
        }
        let rows = results.map { r -> [String] in
            [
                "\(r.run)", r.status, r.device, r.task, r.method, "\(r.seed)", "\(r.steps)",
                r.finalLoss.map { String(format: "%.4g", $0) + " " + r.lossUnit } ?? "–", formatPercent(r.trainAccuracy),
                formatPercent(r.testAccuracy), formatPercent(r.digitalCeiling), "\(r.measurements)", shortDate(r.createdAt),
            ]
        }
        try Output.print(
            Table.render(
                header: [
                    "run", "status", "device", "task", "method", "seed", "steps", "final loss", "train", "test",
                    "ceiling", "measurements", "started",
                ],
                rows: rows))
    }
}

/// `2025-03-01 14:05` in local time, for tables.
func shortDate(_ d: Date) -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd HH:mm"
    return f.string(from: d)
}
