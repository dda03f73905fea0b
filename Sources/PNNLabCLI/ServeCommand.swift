import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNRemote

/// `pnnlab serve` — devices and runs over gRPC for other machines, processes and Python.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve devices and the run store over gRPC until Ctrl-C.",
        discussion: """
            Clients use a served device as DEVICE remote://HOST:PORT/NAME (pnnlab train, \
            calibrate) or from Python (pnnlab.connect("HOST:PORT")). The contract is \
            Proto/pnnlab/v1/pnnlab.proto. The first line of stdout is the address listened on.

            --device takes [NAME=]DEVICE [twin options], e.g. --device crossbar-1 (a board \
            registered with 'pnnlab attach'), --device 'twin=sim:crossbar --ideal'. With no \
            --device, every registered board is served. One client at a time holds a device's \
            write lease (programming, probes, safe state); others may read and measure. Every \
            value is checked against the device's safe ranges here, on the server.

            Clients may start runs (StartRun: the options of pnnlab train), pause and resume \
            them; they train in this process, are recorded in this store, and pause at a step \
            boundary (device safe, run checkpointed) when the server stops.

            Loopback (127.0.0.1) is the default. Any other address needs an access token \
            (--token or $\(RemoteDefaults.tokenVariable)), checked on every call; clients set \
            $\(RemoteDefaults.tokenVariable). --cert and --key (PEM) turn on TLS; clients then \
            set $\(RemoteDefaults.trustRootsVariable) to the certificate (or its CA).
            """)

    @Option(help: "HOST:PORT to listen on (default \(RemoteDefaults.host):\(RemoteDefaults.port); port 0: any free one).")
    var listen: String = "\(RemoteDefaults.host):\(RemoteDefaults.port)"

    @Option(
        name: .customLong("device"),
        help: ArgumentHelp("[NAME=]DEVICE [twin options] to serve (repeatable).", valueName: "spec"))
    var devices: [String] = []

    @Option(help: "Probes a stream may run ahead of what its client has read (sent half a window per message).")
    var streamWindow: Int = 16

    @Option(help: "Seed of served sim: twins.")
    var seed: UInt64 = 1

    @Option(help: "Access token every call must carry (default $\(RemoteDefaults.tokenVariable)).")
    var token: String?

    @Option(help: "TLS certificate chain, PEM.")
    var cert: String?

    @Option(help: "TLS private key, PEM.")
    var key: String?

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        guard (1...4096).contains(streamWindow) else { throw ValidationError("--stream-window must be between 1 and 4096") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration = RemoteServerConfiguration(
            listen: try HostPort(parsing: listen, what: "--listen"),
            token: token ?? environment[RemoteDefaults.tokenVariable], certificate: cert, privateKey: key)
        try configuration.validate()  // before opening any device
        let store = try storeOptions.open()
        var specs = devices
        if specs.isEmpty {
            specs = try store.devices().map(\.name)
            guard !specs.isEmpty else {
                throw ValidationError(
                    "nothing to serve: no board is registered (pnnlab attach); name devices with --device, "
                        + "e.g. --device sim:crossbar")
            }
        }
        var served: [ServedDevice] = []
        var links: [DeviceCatalog.Opened] = []
        for spec in specs {
            let (name, device, words) = try Self.parse(spec)
            guard !served.contains(where: { $0.name == name }) else {
                throw ValidationError("two served devices are called '\(name)'; name them with NAME=DEVICE")
            }
            let opened = try await DeviceCatalog.open(
                device, twin: .init(seed: seed, optionWords: words), store: store)
            links.append(opened)
            served.append(ServedDevice(name: name, source: device, substrate: opened.substrate, streamWindow: streamWindow))
        }
        let runs = ServerRunLauncher(store: store)
        let server = try RemoteServer(configuration: configuration, devices: served, store: store, launcher: runs)
        let names = served.map { "\($0.name) (\($0.substrate.descriptor.identity.summary))" }
        let stop = await StopSignal()
        stop.onSignal { server.shutdown() }
        try await server.run { bound in
            FileHandle.standardOutput.write(Data((bound.description + "\n").utf8))
            Terminal.writeError(
                "serving \(names.joined(separator: ", ")) on \(bound)"
                    + (configuration.usesTLS ? " with TLS" : "") + (configuration.token != nil ? ", token required" : "")
                    + "; Ctrl-C to stop\n")
        }
        await runs.pauseAll()  // runs started over the wire pause at a step boundary, resumable
        for device in served { try? await device.substrate.enterSafeState() }
        for opened in links { await opened.connected?.connection.close() }
    }

    /// `[NAME=]DEVICE [words…]`: the served name, the DEVICE and its twin option words.
    static func parse(_ spec: String) throws -> (name: String, device: String, words: [String]) {
        var words = spec.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !words.isEmpty else { throw ValidationError("--device needs a DEVICE") }
        let first = words.removeFirst()
        var name = first
        var device = first
        if let equals = first.firstIndex(of: "="), !first.hasPrefix("remote://") {
            name = String(first[..<equals])
            device = String(first[first.index(after: equals)...])
        }
        guard !name.isEmpty, !device.isEmpty, !name.contains("/") else {
            throw ValidationError("--device '\(spec)': write [NAME=]DEVICE, NAME without '/'")
        }
        return (name, device, words)
    }
}
