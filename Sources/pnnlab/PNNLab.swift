import ArgumentParser
import Foundation

/// The `pnnlab` command: train physical neural networks in situ.
struct PNNLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pnnlab",
        abstract: "Train physical neural networks in situ — on hardware or on its simulated twin.",
        discussion: """
            DEVICE is a simulated twin (\(FamilyHelp.twinNames)), a name registered with \
            'pnnlab attach', a serial port path, or usb:VID:PID[:serial]. Runs are recorded in \
            ./pnnlab.sqlite (move it with --store or PNNLAB_STORE).
            """,
        version: PNNLabVersion.string,
        subcommands: [
            Train.self, Runs.self, Show.self, Export.self, Devices.self, Attach.self, Emulate.self, Conformance.self,
            Doctor.self, Analyze.self, Calibrate.self, Twin.self,
        ]
    )
}

/// Version printed by `pnnlab --version`.
enum PNNLabVersion {
    static let string = "0.1.0"
}

/// Entry point: parses, runs, and turns any failure into one line on stderr and a
/// non-zero exit status (never a stack trace).
@main
enum Main {
    static func main() async {
        Output.reserveStandardStreams()
        do {
            var command = try PNNLab.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Failure.exit(with: error)
        }
    }
}
