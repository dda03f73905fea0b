import ArgumentParser
import Foundation
import PNNRemote

/// The `pnnlab` command: train physical neural networks in situ.
struct PNNLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pnnlab",
        abstract: "Train physical neural networks in situ — on hardware or on its simulated twin.",
        discussion: """
            DEVICE is a simulated twin (\(FamilyHelp.twinNames)), a name registered with \
            'pnnlab attach', a serial port path, usb:VID:PID[:serial], or remote://HOST:PORT/NAME \
            (a device served by 'pnnlab serve'). Runs are recorded in \
            ./pnnlab.sqlite (move it with --store or PNNLAB_STORE). --verbose anywhere on the \
            command line (or PNNLAB_LOG=debug|info|warning) writes diagnostics of links, drivers \
            and the store to stderr.
            """,
        version: PNNLabVersion.string,
        subcommands: [
            Train.self, Runs.self, Show.self, Export.self, Devices.self, Attach.self, Emulate.self, Conformance.self,
            Doctor.self, Analyze.self, Plot.self, Calibrate.self, Profiles.self, Twin.self, Rig.self, Serve.self,
        ]
    )
}

/// Version printed by `pnnlab --version`.
enum PNNLabVersion {
    static let string = "0.1.0"
}

/// The `pnnlab` command line as a library: the `pnnlab` executable calls `main()`, and so can
/// a build that registers extra device families first (`FamilyRegistry.register`), e.g. a
/// test-only family or an out-of-tree one.
public enum PNNLabCLI {
    /// Parses the process arguments, runs the command, and turns any failure into one line on
    /// stderr and a non-zero exit status (never a stack trace).
    public static func main() async {
        // First: a closed stdout must be reserved before anything (Foundation included) opens a file.
        Output.reserveStandardStreams()
        var arguments = Array(CommandLine.arguments.dropFirst())
        Diagnostics.bootstrap(arguments: &arguments, environment: ProcessInfo.processInfo.environment)
        RemoteDevices.register()
        do {
            var command = try PNNLab.parseAsRoot(arguments)
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
