import ArgumentParser
import Foundation
import PNNRuns
import PNNStore

/// `pnnlab export RUN --format csv|json|npz [-o FILE]` — a run for numpy, pandas or a notebook.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a run's steps (and parameters) as CSV, JSON or a self-describing NumPy .npz.",
        discussion:
            "CSV: one line per step (batch_loss, eval_loss where evaluated, accuracies), parameters as theta_0..theta_{P-1}. JSON: run metadata, settings, summary (the keys of `runs --json`), evaluations, steps. npz (needs -o): units in the array names, parameter geometry (row, column, ± device), sample ids and labels, every stored batch and evaluation output, recorded Jacobians, per-epoch evaluation loss, and metadata_json describing every array (docs/export.md)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json, npz
    }

    @Argument(help: "Run number (see `pnnlab runs`).")
    var run: Int64

    @Option(help: "csv, json or npz.")
    var format: Format = .csv

    @Option(name: [.short, .customLong("output")], help: "Write to FILE instead of stdout.")
    var output: String?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if format == .npz && output == nil { throw ValidationError("--format npz writes a binary file: give -o FILE.npz") }
    }

    func run() async throws {
        let store = try storeOptions.open()
        if format == .npz, let output {
            let data = try await RunNPZExport.archive(runID: run, store: store).data()
            try Output.writeFile(data, to: output)
            Terminal.writeError("wrote run \(run) as npz to \(output)\n")
            return
        }
        let exporter = RunExporter(store: store)
        let annotations = try RunDetail.load(runID: run, store: store).exportAnnotations()
        let text: String
        switch format {
        case .csv: text = try exporter.exportCSV(runID: run, annotations: annotations)
        case .json: text = String(decoding: try exporter.exportJSON(runID: run, annotations: annotations), as: UTF8.self)
        case .npz: preconditionFailure("npz is written above")
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
