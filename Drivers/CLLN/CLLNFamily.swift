import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The CLLN family's registry entry: host driver, emulator, health check and conformance checks.
public enum CLLNFamily: DeviceFamilyDriver {
    public static let family = "clln"
    public static var schemaHash: UInt32 { CLLNCommand.schemaHash }

    public static func commandName(_ type: FrameType) -> String { CLLNCommand.name(of: type) }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        try await CLLNBoard(connection: connection)
    }

    public static var conformanceChecks: [ConformanceCheck] { CLLNChecks.all }

    public static var emulatorOptions: [FamilyOption] {
        [
            FamilyOption(
                "graph", .text(valueName: "GRAPH"),
                help: "Wiring: lattice (4×4 periodic, default), two-plus-one, or a NetworkTopology JSON file."),
            FamilyOption(
                "read-noise", .number(0...0.1),
                help: "Node read noise, V rms (default 0: reads exact to 64-bit floats; an ADC-limited board reads "
                    + "to ~1 mV)."),
        ]
    }

    /// An emulated board: the lab's 4×4 periodic lattice (or the wiring given), with the
    /// default physics (per-edge A0 spread and bias B) or ideal physics, seeded as asked,
    /// and node read noise when `--read-noise` gives it.
    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        let topology = try topology(named: settings.options.text("graph"))
        var physics: CLLNPhysics = settings.ideal ? .ideal : CLLNPhysics()
        physics.readNoise = settings.options.number("read-noise") ?? 0
        let state = CLLNState(topology: topology, physics: physics, seed: settings.seed)
        return try CLLNEmulator(state: state, serial: settings.serial ?? "EMU-\(settings.seed)")
    }

    /// Largest graph file read (a lattice of a few thousand edges is far below it).
    public static let maxGraphFileBytes = 16 << 20

    /// The wiring named by `--graph`: `lattice`, `two-plus-one` (or `2+1`), or a graph file.
    public static func topology(named graph: String?) throws -> NetworkTopology {
        switch graph ?? "lattice" {
        case "lattice": return .periodicLattice()
        case "two-plus-one", "2+1": return .twoPlusOne
        case let path:
            let data = try readBounded(path, limit: maxGraphFileBytes, what: "graph file")
            return try NetworkTopology.load(json: data)
        }
    }

    /// Reads a file after checking its size, with a one-line error naming it.
    static func readBounded(_ path: String, limit: Int, what: String) throws -> Data {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw CLLNError.invalidState("cannot read \(what) \(path): no such file")
        }
        if let type = attributes[.type] as? FileAttributeType, type == .typeDirectory {
            throw CLLNError.invalidState("cannot read \(what) \(path): it is a directory")
        }
        if let size = attributes[.size] as? Int, size > limit {
            throw CLLNError.invalidState("\(what) \(path) is \(size) bytes; the limit is \(limit)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLLNError.invalidState("cannot read \(what) \(path): permission denied or unreadable")
        }
        return data
    }

    /// Ping round trip and pipelined rate, one measurement of the outputs with the data
    /// inputs at mid-rail, and a read of the free network's node voltages.
    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        guard let board = substrate as? CLLNBoard else {
            throw SubstrateError.malformedReply("health check needs a CLLN board driver")
        }
        let client = await board.client()
        let ping = try await client.measurePing()
        let v = midSources(board.info, board.topology)
        let outputs = try await board.measure(Matrix(rows: 1, cols: v.count, storage: v))
        try await board.applyInputs(v)
        let nodes = try await board.readNodes(.free)
        guard nodes.count == board.info.nodes, nodes.allSatisfy(\.isFinite) else {
            throw SubstrateError.malformedReply("node read returned \(nodes.count) values for \(board.info.nodes) nodes")
        }
        let status = try await board.status()
        return HealthReport(
            roundTrip: ping.roundTrip, requestsPerSecond: ping.perSecond, streamBytesPerSecond: 0,
            streamFramesPerSecond: 0, streamFramesLost: 0, outputs: outputs.storage,
            outputUnit: PhysicalUnit.volt.symbol,
            counters: [
                "violations": Int(status.violations), "learns": Int(status.learns), "nodes": nodes.count,
            ])
    }

    /// Source voltages with every data coordinate at mid-rail, clipped to the board's window.
    public static func midSources(_ info: CLLNBoardInfo, _ topology: NetworkTopology) -> [Double] {
        let mid = (info.vPlus + info.vMinus) / 2
        let x = Array(repeating: mid, count: max(1, topology.dataDimension))
        return topology.sourceVoltages(for: x, vPlus: info.vPlus, vMinus: info.vMinus).map {
            min(max($0, info.inputLow), info.inputHigh)
        }
    }
}
