import ArgumentParser
import Foundation
import PNNExperiments
import PNNStore

/// `pnnlab plot RUN [--kind K] [-o FILE.svg]` and `pnnlab plot --calibration ID` — one SVG chart of
/// a stored run or calibration.
struct Plot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw one SVG chart of a stored run (or of a stored calibration).",
        discussion: """
            Kinds: \(RunPlotKind.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")). \
            Default: accuracy for Jacobian runs, errors for contrastive runs. --calibration ID draws a \
            crossbar calibration's device windows instead of a run. The file is written whole or not at all.
            """)

    @Argument(help: "Run number (see `pnnlab runs`).")
    var run: Int64?

    @Option(help: "What to draw: \(RunPlotKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: String?

    @Option(help: "conductance: the step to draw (default: the last).")
    var step: Int?

    @Option(help: "Draw the stored calibration with this id (see `pnnlab calibrate`) instead of a run.")
    var calibration: Int64?

    @Option(name: [.short, .customLong("output")], help: "Write the SVG to FILE instead of stdout.")
    var output: String?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if run == nil && calibration == nil { throw ValidationError("give a run number, or --calibration ID") }
        if run != nil && calibration != nil { throw ValidationError("give a run number or --calibration ID, not both") }
        if calibration != nil && (kind != nil || step != nil) {
            throw ValidationError("--kind and --step are for runs; a calibration has one plot")
        }
        if let kind, RunPlotKind(rawValue: kind) == nil {
            throw ValidationError(
                "unknown plot kind '\(kind)'; choose one of \(RunPlotKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let step, step < 1 { throw ValidationError("--step must be at least 1") }
        if step != nil && kind != RunPlotKind.conductance.rawValue {
            throw ValidationError("--step picks the step of a conductance map; add --kind conductance")
        }
    }

    func run() async throws {
        let store = try storeOptions.open()
        let svg: String
        let what: String
        if let calibration {
            svg = try RunPlots.calibration(id: calibration, store: store)
            what = "calibration \(calibration)"
        } else if let run {
            let chosen = try kind.flatMap(RunPlotKind.init(rawValue:)) ?? RunPlots.defaultKind(runID: run, store: store)
            svg = try await RunPlots.render(chosen, runID: run, store: store, step: step)
            what = "the \(chosen.rawValue) plot of run \(run)"
        } else {
            throw ValidationError("give a run number, or --calibration ID")
        }
        guard let output else {
            try Output.print(String(svg.dropLast(svg.hasSuffix("\n") ? 1 : 0)))
            return
        }
        try Output.writeFile(svg, to: output)
        Terminal.writeError("wrote \(what) to \(output)\n")
    }
}
