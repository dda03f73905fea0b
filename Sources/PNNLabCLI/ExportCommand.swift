import ArgumentParser
import Foundation
import PNNRuns
import PNNStore

/// `pnnlab export RUN --format csv|json [-o FILE]` — a run for numpy, pandas or a notebook.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a run's steps (and parameters) as CSV or JSON.",
        discussion:
            "CSV: one line per step (batch_loss, eval_loss where evaluated, accuracies), parameters as theta_0..theta_{P-1}. JSON: run metadata, settings, summary (the keys of `runs --json`), evaluations, steps."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    @Argument(help: "Run number (see `pnnlab runs`).")
    var run: Int64

    @Option(help: "csv or json.")
    var format: Format = .csv

    @Option(name: [.short, .customLong("output")], help: "Write to FILE instead of stdout.")
    var output: String?

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let store = try storeOptions.open()
        let exporter = RunExporter(store: store)
        let annotations = try RunDetail.load(runID: run, store: store).exportAnnotations()
        let text: String
        switch format {
        case .csv: text = try exporter.exportCSV(runID: run, annotations: annotations)
        case .json: text = String(decoding: try exporter.exportJSON(runID: run, annotations: annotations), as: UTF8.self)
        }
        guard let output else {
            // Both formats end in a newline; `Output.print` adds one.
            try Output.print(String(text.dropLast(text.hasSuffix("\n") ? 1 : 0)))
            return
        }
        try Output.writeFile(text, to: output)
        Terminal.writeError("wrote run \(run) as \(format.rawValue) to \(output)\n")
    }
}
