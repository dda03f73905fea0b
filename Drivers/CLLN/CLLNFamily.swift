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

    /// An emulated board: the lab's 4×4 periodic lattice (or the graph file given), with the
    /// default physics (per-edge A0 spread and bias B) or ideal physics, seeded as asked.
    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        let topology: NetworkTopology
        if let path = settings.graph {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw CLLNError.invalidState("cannot read graph file \(path): \(error.localizedDescription)")
            }
            topology = try NetworkTopology.load(json: data)
        } else {
            topology = .periodicLattice()
        }
        let state = CLLNState(topology: topology, physics: settings.ideal ? .ideal : CLLNPhysics(), seed: settings.seed)
        return try CLLNEmulator(state: state, serial: settings.serial ?? "EMU-\(settings.seed)")
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
