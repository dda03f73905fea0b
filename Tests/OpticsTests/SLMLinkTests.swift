import Foundation
import OpticsDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// The `slm` device end to end over an in-memory link: the emulator against the conformance
/// suite, the host driver's upload/show/settle, and the worked example of docs/protocol.md §15.
@Suite struct SLMLinkTests {
    static func emulator(width: Int = 16, height: Int = 8) -> SLMEmulator {
        var config = OpticsConfig()
        config.inputs = width * height
        config.parameters = 0
        config.gridWidth = width
        return SLMEmulator(config: config, serial: "EMU-S")
    }

    @Test func conformanceSuitePasses() async throws {
        let (host, device) = MemoryLink.pair(seed: 3)
        let emulator = Self.emulator()
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host)
        let results = await ConformanceSuite.run(
            client: client, familyChecks: SLMFamily.conformanceChecks, family: SLMFamily.family,
            schemaHash: SLMFamily.schemaHash)
        for r in results where !r.passed { Issue.record("\(r.name): \(r.detail)") }
        #expect(results.contains { $0.name == "slm upload and show" && $0.passed })
        #expect(await emulator.violationCount == 3, "exactly the three deliberate refusals")
        await client.close()
    }

    @Test func hostDriverUploadsShowsAndSettles() async throws {
        let (host, device) = MemoryLink.pair(seed: 4)
        let emulator = Self.emulator()
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let connection = try await LinkConnection(
            port: "memory", family: SLMFamily.family, schemaHash: SLMFamily.schemaHash, grace: 1, opener: { host })
        let slm = try SLMDevice(connection: connection)
        #expect(slm.info.width == 16 && slm.info.height == 8 && slm.isEmulator)
        #expect(slm.descriptor.parameters.count == 128)
        let grey = (0..<128).map { Double(($0 * 7) % 256) }
        let shown = try await slm.setParameters(grey)
        #expect(shown == grey)
        #expect(try await slm.readParameters() == grey)
        let physics = await emulator.slm
        #expect(physics.grey == grey.map { UInt8($0) })
        #expect(physics.settledFraction(after: await emulator.clock - physics.switchTime) >= 1 - exp(-4) - 1e-12)
        // A host-side refusal: grey 300 never reaches the SLM.
        var bad = grey
        bad[3] = 300
        await #expect(throws: (any Error).self) { try await slm.setParameters(bad) }
        #expect(await emulator.violationCount == 0)
        let chunks = try await slm.upload(Array(repeating: 9, count: 128), slot: 2)
        #expect(chunks == 1)
        try await slm.enterSafeState()
        #expect(try await slm.status().blank)
        await connection.close()
    }

    @Test func workedExampleBytes() throws {
        // docs/protocol.md §15.6: beginUpload of slot 1, transfer 0x0102, 2048 bytes.
        var w = PayloadWriter()
        w.u8(1)
        w.u16(0x0102)
        w.u32(2048)
        #expect(w.bytes == [0x01, 0x02, 0x01, 0x00, 0x08, 0x00, 0x00])
        let frame = Frame(type: SLMCommand.beginUpload, seq: 5, payload: w.bytes)
        #expect(frame.rawBytes.prefix(5) == [0x01, 0x72, 0x05, 0x00, 0x00])
        // A 4-byte chunk at offset 0 of that transfer, as a bulkChunk payload.
        let chunk = BulkChunk(transferID: 0x0102, offset: 0, total: 2048, data: [0, 64, 128, 255])
        #expect(chunk.encode() == [0, 0, 0, 0, 0x00, 0x08, 0, 0, 0x02, 0x01, 0, 64, 128, 255])
        // status reply of a blank 64×32 SLM after one pattern.
        let s = SLMStatus(
            violations: 0, patterns: 1, slot: 0xFF, crc: CRC32.checksum([UInt8](repeating: 0, count: 2048)),
            triggerIn: false, triggerOut: true, blank: true)
        #expect(s.encode().count == 16)
        #expect(try SLMStatus.decode(s.encode()) == s)
        #expect(
            SLMInfo(width: 64, height: 32, macroPixel: 8, refreshHz: 60, triggerIn: true, triggerOut: true).encode()
                == [0x40, 0x00, 0x20, 0x00, 0x08, 0x00, 0x08, 0x04, 0, 0, 0, 0, 0, 0, 0x4E, 0x40, 0x03])
    }
}
