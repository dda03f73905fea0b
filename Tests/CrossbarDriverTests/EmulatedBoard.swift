import CrossbarDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire

/// An emulated crossbar served over an in-memory link, and a host driver attached to it.
struct EmulatedBoard {
    let board: CrossbarBoard
    let emulator: CrossbarEmulator
    let server: WireServer
    let serving: Task<Void, Never>
    let hostEnd: MemoryLink
    let deviceEnd: MemoryLink

    static func start(
        config: CrossbarConfig = .ideal, faults: FaultSpec = .none, seed: UInt64 = 1,
        options: WireServer.Options = .init(), tracker: RequestTracker.Configuration = .init()
    ) async throws -> EmulatedBoard {
        let (host, device) = MemoryLink.pair(faults: faults, seed: seed)
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "EMU-\(seed)")
        let server = WireServer(endpoint: emulator, transport: device, options: options)
        let serving = Task { await server.run() }
        let connection = try await LinkConnection(
            port: "memory", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 1,
            configuration: .init(tracker: tracker), opener: { host })
        let board = try CrossbarBoard(connection: connection)
        return EmulatedBoard(
            board: board, emulator: emulator, server: server, serving: serving, hostEnd: host, deviceEnd: device)
    }

    func stop() async {
        await board.close()
        serving.cancel()
    }
}
