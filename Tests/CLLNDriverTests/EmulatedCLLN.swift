import CLLNDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire

/// An emulated CLLN board served over an in-memory link, and a host driver attached to it.
struct EmulatedCLLN {
    let board: CLLNBoard
    let emulator: CLLNEmulator
    let serving: Task<Void, Never>

    static func state(ideal: Bool = true, seed: UInt64 = 7) -> CLLNState {
        CLLNState(topology: .periodicLattice(), physics: ideal ? .ideal : CLLNPhysics(), seed: seed)
    }

    static func start(state: CLLNState = state(), seed: UInt64 = 1) async throws -> EmulatedCLLN {
        let (host, device) = MemoryLink.pair(faults: .none, seed: seed)
        let emulator = try CLLNEmulator(state: state, serial: "EMU-\(seed)")
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        let connection = try await LinkConnection(
            port: "memory", family: CLLNFamily.family, schemaHash: CLLNCommand.schemaHash, grace: 1,
            opener: { host })
        let board = try await CLLNBoard(connection: connection)
        return EmulatedCLLN(board: board, emulator: emulator, serving: serving)
    }

    func stop() async {
        await board.close()
        serving.cancel()
    }

    /// Mid-rail sources for the lattice.
    var midSources: [Double] { CLLNFamily.midSources(board.info, board.topology) }

    /// Two tasks of two points each on the lattice (x around mid-rail, labels ±18 mV).
    func dataset() -> ContrastiveDataset { Self.dataset(for: board) }

    /// The same two tasks for any lattice board.
    static func dataset(for board: CLLNBoard) -> ContrastiveDataset {
        let i = board.info
        func point(_ x: [Double], _ label: Double) -> ContrastivePoint {
            ContrastivePoint(inputs: board.topology.sourceVoltages(for: x, vPlus: i.vPlus, vMinus: i.vMinus), labels: [label])
        }
        let mid = (i.vPlus + i.vMinus) / 2
        return ContrastiveDataset(tasks: [
            ContrastiveTask(
                name: "a", classification: true, points: [point([mid + 0.05, mid], 0.018), point([mid, mid + 0.05], 0.018)]),
            ContrastiveTask(
                name: "b", classification: true, points: [point([mid - 0.05, mid], -0.018), point([mid, mid - 0.05], -0.018)]),
        ])
    }
}
