import ArgumentParser
import Foundation
import PNNStore

/// `pnnlab export RUN --format csv|json [-o FILE]` — a run for numpy, pandas or a notebook.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a run's steps (and parameters) as CSV or JSON.",
        discussion: "CSV: one line per step, parameters as theta_0..theta_{P-1}. JSON: run metadata, settings, steps.")

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
        let data: Data
        switch format {
        case .csv: data = Data(try exporter.exportCSV(runID: run).utf8)
        case .json: data = try exporter.exportJSON(runID: run)
        }
        guard let output else {
            FileHandle.standardOutput.write(data)
            return
        }
        do {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError("cannot write \(output): \((error as NSError).localizedDescription)")
        }
        Terminal.writeError("wrote run \(run) as \(format.rawValue) to \(output)\n")
    }
}
