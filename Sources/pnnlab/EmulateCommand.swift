import ArgumentParser
import Dispatch
import Foundation
import PNNLink
import PNNTraining
import PNNTransport
import PNNWire

/// `pnnlab emulate FAMILY` — serve a virtual board on a new pseudo-terminal.
struct Emulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve an emulated board on a new pseudo-terminal until Ctrl-C.",
        discussion: """
            The first line of stdout is the port to use (e.g. /dev/pts/5); with --link PATH a
            stable symlink to it is made too. The board speaks the wire protocol exactly as
            hardware does, backed by the family's twin.
            """)

    @Argument(help: "Family: \(DeviceFamilies.all.map { $0.family }.joined(separator: ", ")).")
    var family: String

    @Option(help: "Serial number the board reports (default EMU-<seed>).")
    var serial: String?

    @Option(help: "Seed of the twin.")
    var seed: UInt64 = 1

    @Option(help: "Input lines (rows); crossbar only.")
    var rows: Int?

    @Option(help: "Outputs (differential column pairs); crossbar only.")
    var outputs: Int?

    @Option(
        help: ArgumentHelp("Network graph file (NetworkTopology JSON); clln only, default the 4×4 lattice.", valueName: "FILE"))
    var graph: String?

    @Flag(help: "Switch every non-ideality of the twin off.")
    var ideal = false

    @Option(help: "Time the board is busy per request, milliseconds.")
    var serviceMs: Double = 0

    @Option(help: "Extra delay before every reply, milliseconds (does not occupy the board).")
    var latencyMs: Double = 0

    @Option(help: "Line faults, e.g. drop=1e-3,flip=1e-3,dup=0,delay-ms=0.")
    var faults: String = "none"

    @Option(help: "Make PATH a symlink to the pty (replaced atomically).")
    var link: String?

    @Option(help: "The board's baud rate; a host opening the port at another rate gets line noise.")
    var baud: Int = 115_200

    @Option(help: ArgumentHelp("Serve on this inherited file descriptor instead of a new pty.", visibility: .hidden))
    var fd: Int32?

    @Option(help: ArgumentHelp("Header version to send (tests of version mismatch).", visibility: .hidden))
    var protocolVersion: UInt8 = PNNWireVersion.protocolVersion

    @Option(help: ArgumentHelp("normal, silent (never answers) or noise (answers with line noise).", visibility: .hidden))
    var behave: String = "normal"

    func validate() throws {
        if serviceMs < 0 || latencyMs < 0 { throw ValidationError("--service-ms and --latency-ms must be ≥ 0") }
        if let rows, rows < 1 || rows > 4096 { throw ValidationError("--rows must be 1…4096") }
        if let outputs, outputs < 1 || outputs > 2048 { throw ValidationError("--outputs must be 1…2048") }
    }

    func run() async throws {
        guard let driver = DeviceFamilies.driver(for: family) else {
            throw ValidationError(
                "unknown family '\(family)'; choose one of \(DeviceFamilies.all.map { $0.family }.joined(separator: ", "))")
        }
        let spec = try FaultSpec(parsing: faults)
        let endpoint = try driver.emulator(
            EmulatorSettings(seed: seed, serial: serial, rows: rows, outputs: outputs, ideal: ideal, graph: graph))
        var options = WireServer.Options(
            serviceTime: .microseconds(Int64(serviceMs * 1000)), latency: .microseconds(Int64(latencyMs * 1000)),
            headerVersion: protocolVersion)
        switch behave {
        case "normal": break
        case "noise": options.lineMatches = { false }
        case "silent": options.silent = true
        default: throw ValidationError("--behave must be normal, silent or noise")
        }
        let stop = StopSignal()
        if let fd {
            let serving = Task { await DescriptorEmulatorHost.serve(endpoint: endpoint, fd: fd, options: options) }
            stop.onSignal { serving.cancel() }
            await serving.value
            return
        }
        let host = try PtyEmulatorHost(endpoint: endpoint, options: options, link: link, faults: spec, seed: seed, baud: baud)
        FileHandle.standardOutput.write(Data((host.path + "\n").utf8))
        Terminal.writeError(
            "emulating a \(family) board (serial \(serial ?? "EMU-\(seed)")) on \(host.path)"
                + (link.map { " (link \($0))" } ?? "") + "; Ctrl-C to stop\n")
        let serving = Task { await host.run() }
        stop.onSignal { serving.cancel() }
        await serving.value
        await host.stop()
    }
}

/// Cancels the emulator on SIGINT or SIGTERM.
final class StopSignal: Sendable {
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    func onSignal(_ action: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            sources.append(source)
        }
    }
}
