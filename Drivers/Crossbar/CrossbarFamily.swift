import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The crossbar family's registry entry: host driver, health check and conformance checks.
public enum CrossbarFamily: DeviceFamilyDriver {
    public static let family = "crossbar"
    public static var schemaHash: UInt32 { CrossbarCommand.schemaHash }

    public static func commandName(_ type: FrameType) -> String { CrossbarCommand.name(of: type) }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        try CrossbarBoard(connection: connection)
    }

    public static var conformanceChecks: [ConformanceCheck] { CrossbarChecks.all }

    /// Default emulated geometry: 16 input lines × 4 differential outputs (Iris with its
    /// quadratic encoding needs 15 lines and 3 outputs; XOR and moons fit too).
    public static let defaultRows = 16
    public static let defaultOutputs = 4

    /// An emulated board: the default twin's PCM-like non-idealities on a 16 × 4 array,
    /// resized and seeded as asked.
    public static var emulatorOptions: [FamilyOption] {
        [
            FamilyOption("rows", .integer(1...4096), help: "Input lines (default \(defaultRows))."),
            FamilyOption(
                "outputs", .integer(1...2048), help: "Differential outputs, two columns each (default \(defaultOutputs))."),
            FamilyOption(
                "adc-gain-spread", .number(0...0.5),
                help: "Column-to-column ADC gain error, relative standard deviation (default 0: exact gains)."),
            FamilyOption(
                "adc-offset-spread", .number(0...0.1),
                help: "Column-to-column ADC offset, standard deviation as a fraction of full scale (default 0)."),
        ]
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        var config = settings.ideal ? CrossbarConfig.ideal : CrossbarConfig()
        config.rows = settings.options.integer("rows") ?? defaultRows
        config.outputs = settings.options.integer("outputs") ?? defaultOutputs
        config.seed = settings.seed
        if let spread = settings.options.number("adc-gain-spread") { config.adcGainSpread = spread }
        if let spread = settings.options.number("adc-offset-spread") { config.adcOffsetSpread = spread }
        return CrossbarEmulator(
            physics: try CrossbarPhysics(config: config), serial: settings.serial ?? "EMU-\(settings.seed)")
    }

    /// Ping round trip, pipelined request rate, a 200-frame measurement stream and one
    /// measurement of all outputs with every row at +0.1·vReadMax.
    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        guard let board = substrate as? CrossbarBoard else {
            throw SubstrateError.malformedReply("health check needs a crossbar board driver")
        }
        let client = await board.client()
        let ping = try await client.measurePing()
        let g = board.geometry
        var probe = Matrix(rows: 1, cols: g.rows)
        for c in 0..<g.rows { probe[0, c] = 0.1 * g.vReadMax }
        let outputs = try await board.measure(probe)
        let stream = try await board.streamMeasurements(of: probe, frames: 200)
        let status = try await board.status()
        return HealthReport(
            roundTrip: ping.roundTrip, requestsPerSecond: ping.perSecond,
            streamBytesPerSecond: stream.bytesPerSecond, streamFramesPerSecond: stream.framesPerSecond,
            streamFramesLost: stream.lost, outputs: outputs.storage, outputUnit: PhysicalUnit.microampere.symbol,
            counters: [
                "violations": Int(status.violations), "pulses": Int(status.pulses), "verifies": Int(status.verifies),
            ])
    }
}

extension CrossbarBoard {
    /// What a measurement stream delivered.
    public struct StreamFigures: Sendable {
        public var frames: Int
        public var lost: Int
        public var payloadBytes: Int
        public var seconds: Double
        public var bytesPerSecond: Double { Double(payloadBytes) / max(seconds, 1e-9) }
        public var framesPerSecond: Double { Double(frames) / max(seconds, 1e-9) }
    }

    /// Has the board push `frames` measurements of `inputs` as a stream and counts what arrives.
    public func streamMeasurements(of inputs: Matrix, frames: Int, repeats: Int = 1) async throws -> StreamFigures {
        _ = try SafetyGuard(descriptor).checkInputs(inputs, policy: .reject)
        let client = await connection.client
        let slot = try await loadForStream(inputs, on: client)
        defer { finishedStream(slot: slot) }
        let stream = await client.subscribe(stream: CrossbarCommand.measurementStream)
        let clock = ContinuousClock()
        let start = clock.now
        var w = PayloadWriter()
        w.u8(slot)
        w.u16(UInt16(repeats))
        w.u32(UInt32(frames))
        let ticket = try await client.submit(
            CrossbarCommand.streamMeasure, payload: w.bytes, retry: .never, timeout: max(2, Double(frames) * 0.01))
        var received = 0, bytes = 0, lastIndex: UInt32?, lost = 0
        for await data in stream {
            received += 1
            bytes += data.data.count
            var r = PayloadReader(data.data)
            if let index = try? r.u32("index") {
                if let last = lastIndex, index > last + 1 { lost += Int(index - last - 1) }
                lastIndex = index
                if Int(index) == frames - 1 { break }
            }
        }
        _ = try await client.reply(to: ticket)
        await client.unsubscribe(stream: CrossbarCommand.measurementStream)
        let seconds = (clock.now - start).seconds
        if let last = lastIndex { lost += frames - 1 - Int(last) } else { lost = frames }
        return StreamFigures(frames: received, lost: lost, payloadBytes: bytes, seconds: seconds)
    }
}
