import CameraDriver
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// The `camera` device end to end on a real pty, built as `pnnlab emulate camera` builds it:
/// the conformance suite, the host driver's features, safe ranges and grabs, and the worked
/// examples of docs/protocol.md §16.
@Suite(.serialized) struct CameraLinkTests {
    /// An emulated camera served on a new pty.
    struct Emulated {
        let host: PtyEmulatorHost
        let serving: Task<Void, Never>
        let endpoint: any DeviceEndpoint
        var address: LinkAddress { .serial(path: host.path, baud: 115_200) }

        init(seed: UInt64, words: [String] = [], ideal: Bool = false) throws {
            let driver = try #require(FamilyRegistry.standard.family(named: "camera"))
            let options = try FamilyOptionValues(parsing: words, declared: driver.emulatorOptions, context: "camera")
            endpoint = try driver.emulator(EmulatorSettings(seed: seed, ideal: ideal, options: options))
            let host = try PtyEmulatorHost(endpoint: endpoint)
            self.host = host
            serving = Task { await host.run() }
        }

        var camera: CameraEmulator { endpoint as! CameraEmulator }

        func stop() async {
            serving.cancel()
            await host.stop()
        }
    }

    @Test func conformanceSuitePassesOnAPty() async throws {
        let emulated = try Emulated(seed: 3)
        let (hello, results) = try await DeviceCatalog.conformance(emulated.address)
        #expect(hello.family == "camera")
        for r in results where !r.passed { Issue.record("\(r.name): \(r.detail)") }
        #expect(results.contains { $0.name == "camera grab" && $0.passed })
        #expect(await emulated.camera.violationCount == 3, "exactly the three deliberate refusals")
        await emulated.stop()
    }

    @Test func hostDriverFeaturesRangesAndGrabs() async throws {
        let emulated = try Emulated(seed: 4, words: ["--width", "40", "--height", "20"])
        let connected = try await DeviceCatalog.connect(emulated.address)
        let camera = try #require(connected.substrate as? CameraDevice)
        #expect(camera.info.sensorWidth == 40 && camera.info.sensorHeight == 20 && camera.isEmulator)
        #expect(camera.descriptor.outputs.count == 800)
        // Host-side refusals: nothing reaches the camera.
        await #expect(throws: CameraError.outOfRange(feature: "ExposureTime", value: 2e5, lower: 10, upper: 100_000)) {
            try await camera.set(.exposureTime, 2e5)
        }
        await #expect(throws: CameraError.notOffered("TriggerSource Line1")) { try await camera.set(.triggerSource, 1) }
        #expect(await emulated.camera.violationCount == 0)
        // A 10 × 5 ROI at (3, 2) in Mono16, software-triggered.
        // (Width before OffsetX: the offset's range depends on the width, as in GenICam.)
        try await camera.set(.width, 10)
        try await camera.set(.height, 5)
        try await camera.set(.offsetX, 3)
        try await camera.set(.offsetY, 2)
        try await camera.set(.pixelFormat, Double(PixelFormat.mono16.rawValue))
        try await camera.set(.triggerMode, 1)
        #expect(try await camera.get(.width) == 10)
        try await camera.start()
        await #expect(throws: (any Error).self) { try await camera.set(.width, 12) }  // locked while acquiring
        let id = try await camera.triggerSoftware()
        let g = try await camera.grab()
        #expect(g.info.frameID == id)
        #expect(g.info.width == 10 && g.info.height == 5 && g.info.offsetX == 3 && g.info.format == .mono16)
        #expect(g.pixels.count == 50)
        // Mono16 of a 12-bit sensor: multiples of 16, above the black level (64 DN → 1024).
        #expect(g.pixels.allSatisfy { $0.truncatingRemainder(dividingBy: 16) == 0 && $0 >= 512 })
        // No trigger: the grab times out on the camera's side.
        await #expect(throws: (any Error).self) { try await camera.grab(timeout: 0.01) }
        // Doubling ExposureTime doubles the signal above the black level (Mono12: DN).
        try await camera.stop()
        try await camera.set(.pixelFormat, Double(PixelFormat.mono12.rawValue))
        try await camera.start()
        var means: [Double] = []
        for exposure in [1000.0, 2000] {
            try await camera.set(.exposureTime, exposure)
            try await camera.triggerSoftware()
            let frame = try await camera.grab().pixels
            means.append(frame.reduce(0) { $0 + $1 - 64 } / Double(frame.count))
        }
        #expect(abs(means[1] / means[0] - 2) < 0.1, "signal ratio \(means[1] / means[0])")
        try await camera.enterSafeState()
        #expect(try await camera.status().acquiring == false)
        await connected.connection.close()
        await emulated.stop()
    }

    @Test func lostChunkIsAskedForAgain() async throws {
        var config = OpticsConfig()
        config.cameraWidth = 64
        config.cameraHeight = 96
        let emulator = CameraEmulator(
            config: config, scene: StaticSpeckleScene(width: 64, height: 96, seed: 2), serial: "EMU-R", lineTrigger: false)
        let (hostEnd, device) = MemoryLink.pair(seed: 5)
        let host = FrameFaultTransport(hostEnd)
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let connection = try await LinkConnection(
            port: "memory", family: CameraFamily.family, schemaHash: CameraFamily.schemaHash, grace: 1, opener: { host })
        let camera = try CameraDevice(connection: connection)
        try await camera.set(.pixelFormat, Double(PixelFormat.mono16.rawValue))
        try await camera.set(.triggerMode, 1)
        try await camera.start()
        try await camera.triggerSoftware()
        let clean = try await camera.grab()
        #expect(clean.resends == 0 && clean.info.total == 12_288)
        try await camera.triggerSoftware()
        // 12 288 bytes = 3 chunks; the second one is lost on its way to the host.
        await host.arm([FrameFault(.incoming, frame: 1, .drop)])
        let repaired = try await camera.grab()
        #expect(await host.applied.count == 1)
        #expect(repaired.resends == 1)
        #expect(repaired.pixels.count == 64 * 96)
        #expect(repaired.info.frameID == clean.info.frameID + 1)
        await connection.close()
    }

    @Test func workedExampleBytes() throws {
        // docs/protocol.md §16.6.
        var set = PayloadWriter()
        set.u8(CameraFeature.exposureTime.rawValue)
        set.f64(1000)
        #expect(set.bytes == [0x00, 0, 0, 0, 0, 0, 0x40, 0x8F, 0x40])
        let frame = Frame(type: CameraCommand.setFeature, seq: 9, payload: set.bytes)
        #expect(frame.rawBytes.prefix(5) == [0x01, 0x82, 0x09, 0x00, 0x00])
        var grab = PayloadWriter()
        grab.f64(0.5)
        grab.u16(0x0A0B)
        #expect(grab.bytes == [0, 0, 0, 0, 0, 0, 0xE0, 0x3F, 0x0B, 0x0A])
        let reply = CameraFrameInfo(
            frameID: 7, timestamp: 1_500_000, offsetX: 0, offsetY: 0, width: 64, height: 32, format: .mono12, total: 4096,
            crc: 0x1122_3344)
        #expect(
            reply.encode() == [
                7, 0, 0, 0, 0, 0, 0, 0, 0x60, 0xE3, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0x20, 0, 0x01, 0, 0x10, 0, 0,
                0x44, 0x33, 0x22, 0x11,
            ])
        #expect(try CameraFrameInfo.decode(reply.encode()) == reply)
        let pixels = PixelFormat.mono12.encode([64, 4095], sensorBits: 12)
        let chunk = BulkChunk(transferID: 0x0A0B, offset: 0, total: 4096, data: pixels)
        #expect(chunk.encode() == [0, 0, 0, 0, 0, 0x10, 0, 0, 0x0B, 0x0A, 0x40, 0x00, 0xFF, 0x0F])
        let pushed = chunk.frame(seq: 0, flags: .stream)
        #expect(pushed.rawBytes.prefix(5) == [0x01, 0x05, 0x00, 0x00, 0x09])
        // The descriptor round-trips; a camera's safe ranges come from it.
        let info = CameraInfo(sensorWidth: 64, sensorHeight: 32, bits: 12, formats: [.mono8, .mono12], lineTrigger: true)
        #expect(info.encode().count == 40)
        #expect(try CameraInfo.decode(info.encode()) == info)
        #expect(info.range(of: .exposureTime) == 10...100_000)
    }
}
