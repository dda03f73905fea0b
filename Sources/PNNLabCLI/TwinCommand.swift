import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNRuns
import PNNTraining

/// `pnnlab twin export DEVICE -o FILE` — the state a run would start from, as JSON.
struct Twin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the simulated twins (sim: devices).",
        subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the state a twin starts from as JSON, for checking its physics outside pnnlab.",
            discussion: """
                The file is what 'pnnlab train DEVICE --twin-state FILE' starts from: the same \
                seed, config and task give the same state as a run would build.

                """ + FamilyHelp.twins())

        @Argument(help: "A twin: \(FamilyHelp.twinNames).")
        var device: String

        @Option(help: "TOML file whose [twin] table sets the twin up (as for train).")
        var config: String?

        @Option(help: "Seed of the twin's spreads and noise.")
        var seed: UInt64 = 1

        @Option(help: "Size the twin to this task, as 'train' would (default: the family's default geometry).")
        var task: String?

        @Option(name: .shortAndLong, help: "Output file.")
        var output: String

        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The twin's own options.", valueName: "twin-options"))
        var twinOptions: [String] = []

        func run() async throws {
            guard device.hasPrefix("sim:") else {
                throw CLIError("'twin export' takes a twin (\(FamilyHelp.twinNames)); a board's state stays on the board")
            }
            var file = ConfigFile()
            if let config { file = try ConfigFile.load(path: config) }
            var geometry: TwinGeometry?
            if let name = task ?? file.task {
                guard let t = TaskName(rawValue: name) else { throw TrainingError.unknownTask(name) }
                let probe = try PreparedTask(t, config: file.trainer, amplitude: 1, seed: seed)
                geometry = TwinGeometry(inputs: probe.encoder.inputCount, outputs: probe.classCount, task: t.rawValue)
            }
            let data = try await DeviceCatalog.exportTwin(
                device,
                twin: .init(seed: seed, config: file.twin, optionWords: twinOptions, geometry: geometry))
            try Output.writeFile(String(decoding: data, as: UTF8.self), to: output)
            Terminal.writeError("wrote the starting state of \(device) (seed \(seed)) to \(output)\n")
        }
    }
}
