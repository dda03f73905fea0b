import ArgumentParser
import Foundation
import PNNCalibration
import PNNCore
import PNNDevices
import PNNRuns
import PNNStore

/// `pnnlab calibrate DEVICE` — measure a device's calibration profile and store it.
struct Calibrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a device's calibration profile with its family's procedure and store it under its serial.",
        discussion: """
            On a twin, and on an emulated board whose family can report its state over the link, \
            the hidden truth is known and the error of every measured figure against \
            it is reported. Procedure options (e.g. --trials) come after DEVICE.

            """ + FamilyHelp.calibrationProcedures())

    @Argument(help: "Device: a sim: twin, a name registered with 'pnnlab attach', or a port.")
    var device: String

    @Option(help: "Seed of a sim: twin.")
    var seed: UInt64 = 1

    @Option(help: "Also write the profile JSON to this file.")
    var out: String?

    @OptionGroup var link: LinkOptions

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The procedure's own options.", valueName: "procedure-options"))
    var procedureOptions: [String] = []

    func run() async throws {
        let store = try storeOptions.open()
        let tty = Terminal.stderrIsTTY
        let report = try await CalibrationRun.run(
            device: device, seed: seed, optionWords: procedureOptions, baud: link.baud ?? 115_200, store: store,
            recordTo: link.record
        ) { done, total, what in
            if tty {
                Terminal.writeError("\r calibrating \(done)/\(total): \(what)\u{1B}[K")
            } else if done == total || done % 8 == 0 {
                Terminal.writeError("calibrating \(done)/\(total): \(what)\n")
            }
        }
        if tty { Terminal.writeError("\n") }
        if let out { try Output.writeFile(report.profile.json() + "\n", to: out) }
        if json {
            try Output.printJSON(report)
            return
        }
        var rows: [(String, String)] = [
            ("calibration", "\(report.calibrationId) (\(report.procedure) v\(report.procedureVersion))"),
            ("device", "\(report.family) \(report.serial)"),
        ]
        rows += report.headline.map { ($0.label, $0.display) }
        rows += (report.truthFigures ?? []).map { ($0.label, $0.display) }
        try Output.print(Table.keyValue(rows))
    }
}
