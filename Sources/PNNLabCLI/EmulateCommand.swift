import ArgumentParser
import Dispatch
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNTraining
import PNNTransport
import PNNWire
import UnixSignals

/// `pnnlab emulate FAMILY` — serve a virtual board on a new pseudo-terminal.
struct Emulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve an emulated board on a new pseudo-terminal until Ctrl-C.",
        discussion: """
            The first line of stdout is the port to use (e.g. /dev/pts/5); with --link PATH a \
            stable symlink to it is made too. A rig family (optics) serves one board per pty and \
            prints one port per line (slm, then camera); --link PATH then makes PATH-slm and \
            PATH-camera. The board speaks the wire protocol exactly as \
            hardware does, backed by the family's twin. SIGUSR1 injects the fault a family \
            option armed (crossbar: --break-adc-on-signal COLS breaks those ADC columns mid-run).

            """ + FamilyHelp.emulatorOptions())

    @Argument(help: "Family: \(FamilyRegistry.standard.names.joined(separator: ", ")).")
    var family: String

    @Option(help: "Serial number the board reports (default EMU-<seed>).")
    var serial: String?

    @Option(help: "Seed of the twin.")
    var seed: UInt64 = 1

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

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("The family's own options (listed below), e.g. --rows 16.", valueName: "family-options"))
    var familyOptions: [String] = []

    func validate() throws {
        for (name, value) in [("--service-ms", serviceMs), ("--latency-ms", latencyMs)] {
            guard value.isFinite, value >= 0, value <= 60_000 else {
                throw ValidationError("\(name) must be a number of milliseconds between 0 and 60000")
            }
        }
    }

    func run() async throws {
        let registry = FamilyRegistry.standard
        guard let driver = registry.family(named: family) else {
            throw ValidationError("unknown family '\(family)'; choose one of \(registry.names.joined(separator: ", "))")
        }
        guard driver.hasLink else {
            let twins = driver.twins.map(\.name).joined(separator: ", ")
            throw ValidationError("\(family) is a twin-only family: there is no board to emulate; use DEVICE \(twins)")
        }
        let values = try FamilyOptionValues(
            parsing: familyOptions, declared: driver.emulatorOptions, context: "the \(family) emulator")
        let spec = try FaultSpec(parsing: faults)
        let boards = try driver.emulators(EmulatorSettings(seed: seed, serial: serial, ideal: ideal, options: values))
        var options = WireServer.Options(
            serviceTime: .microseconds(Int64(serviceMs * 1000)), latency: .microseconds(Int64(latencyMs * 1000)),
            headerVersion: protocolVersion)
        options.inlineReads = true  // a process of its own: wait for requests on the server's thread
        switch behave {
        case "normal": break
        case "noise": options.lineMatches = { false }
        case "silent": options.silent = true
        default: throw ValidationError("--behave must be normal, silent or noise")
        }
        let stop = await StopSignal()
        await FaultSignal().onSignal(inject: boards, family: family)
        if let fd {
            guard boards.count == 1, let endpoint = boards.first?.endpoint else {
                throw ValidationError("--fd serves one board; \(family) emulates \(boards.count)")
            }
            let serving = Task { await DescriptorEmulatorHost.serve(endpoint: endpoint, fd: fd, options: options) }
            stop.onSignal { serving.cancel() }
            await serving.value
            return
        }
        // One pty per board; with several boards (a rig) each path is printed on its own
        // line, in the family's order, and --link PATH makes PATH-ROLE links.
        var hosts: [PtyEmulatorHost] = []
        for board in boards {
            let boardLink = boards.count == 1 ? link : link.map { "\($0)-\(board.role)" }
            hosts.append(
                try PtyEmulatorHost(
                    endpoint: board.endpoint, options: options, link: boardLink, faults: spec, seed: seed, baud: baud))
        }
        FileHandle.standardOutput.write(Data(hosts.map { $0.path + "\n" }.joined().utf8))
        for (board, host) in zip(boards, hosts) {
            let what = boards.count == 1 ? "a \(family) board" : "the \(family) rig's \(board.role)"
            Terminal.writeError(
                "emulating \(what) (serial \(board.endpoint.hello.serial)) on \(host.path)"
                    + (host.link.map { " (link \($0))" } ?? "") + "; Ctrl-C to stop\n")
        }
        let served = hosts
        let serving = Task {
            await withTaskGroup(of: Void.self) { group in
                for host in served { group.addTask { await host.run() } }
            }
        }
        stop.onSignal { serving.cancel() }
        await serving.value
        for host in hosts { await host.stop() }
    }
}

/// Cancels the emulator on SIGINT, SIGTERM or SIGHUP (swift-service-lifecycle's
/// `UnixSignalsSequence`, as for training runs). The signals are trapped when this is made,
/// before the port is announced, so a signal right after start-up is never lost.
struct StopSignal: Sendable {
    let signals: UnixSignalsSequence

    init() async {
        signals = await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup)
    }

    func onSignal(_ action: @escaping @Sendable () -> Void) {
        let signals = self.signals
        Task.detached {
            for await _ in signals {
                action()
                return
            }
        }
    }
}

/// Injects the boards' armed faults (`ArmedFault`) whenever the emulator receives SIGUSR1,
/// and says on stderr what broke — or that nothing was armed.
struct FaultSignal: Sendable {
    let signals: UnixSignalsSequence

    init() async {
        signals = await UnixSignalsSequence(trapping: .sigusr1)
    }

    func onSignal(inject boards: [EmulatedBoard], family: String) {
        let signals = self.signals
        Task.detached {
            for await _ in signals {
                var said = false
                for board in boards {
                    guard let armed = board.endpoint as? any ArmedFault, let what = await armed.injectArmedFault() else {
                        continue
                    }
                    let whose = boards.count == 1 ? "the \(family) board" : "the \(family) rig's \(board.role)"
                    Terminal.writeError("SIGUSR1: \(whose): \(what)\n")
                    said = true
                }
                if !said { Terminal.writeError("SIGUSR1: no fault armed (or already injected); nothing changed\n") }
            }
        }
    }
}
