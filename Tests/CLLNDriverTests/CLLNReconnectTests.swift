import CLLNDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// A board that is unplugged and comes back power-cycled (same serial, state lost): the
/// driver reconnects and restores the gates, sources and clamp it last set.
@Suite struct CLLNReconnectTests {
    /// Each `open()` powers up a fresh emulated board on a new in-memory link.
    actor Bench {
        var hosts: [MemoryLink] = []
        var emulators: [CLLNEmulator] = []
        var servers: [Task<Void, Never>] = []

        func open() throws(LinkError) -> MemoryLink {
            let (host, device) = MemoryLink.pair(seed: UInt64(hosts.count + 1))
            let emulator: CLLNEmulator
            do {
                emulator = try CLLNEmulator(state: EmulatedCLLN.state(), serial: "EMU-R")
            } catch {
                throw .reconnectFailed(port: "memory", waited: 0, lastError: error.description)
            }
            let server = WireServer(endpoint: emulator, transport: device)
            servers.append(Task { await server.run() })
            hosts.append(host)
            emulators.append(emulator)
            return host
        }

        func unplug() async { await hosts.last?.disconnect() }
        func stop() { for s in servers { s.cancel() } }
    }

    @Test func powerCycledBoardGetsItsStateBack() async throws {
        let bench = Bench()
        let connection = try await LinkConnection(
            port: "memory", family: CLLNFamily.family, schemaHash: CLLNCommand.schemaHash, grace: 2,
            opener: { () async throws(LinkError) -> any Transport in try await bench.open() })
        let board = try await CLLNBoard(connection: connection)
        let gates = (0..<board.info.trainable).map { 2.2 + 0.03 * Double($0 % 9) }
        _ = try await board.setParameters(gates)
        let v = CLLNFamily.midSources(board.info, board.topology)
        try await board.applyInputs(v)
        try await board.setClamp(ClampSetting(mode: .clamped, targets: [0.2], eta: 0.5))
        let clamped = try await board.readNodes(NetworkSide.clamped)

        await bench.unplug()
        let after = try await board.readNodes(NetworkSide.clamped)
        #expect(await board.reconnections() == 1)
        #expect(await bench.emulators.count == 2, "a fresh board answered")
        #expect(zip(after, clamped).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(try await board.readParameters().elementsEqual(gates) { abs($0 - $1) < 1e-9 })
        await board.close()
        await bench.stop()
    }
}
