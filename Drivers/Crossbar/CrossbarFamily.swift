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
            FamilyOption(
                "break-adc", .text(valueName: "COL[,COL…]"),
                help: "Physical ADC columns (0…2·outputs−1; A-B ranges too) broken from the start: they read 0."),
            FamilyOption(
                "break-adc-on-signal", .text(valueName: "COL[,COL…]"),
                help: "ADC columns that break when the emulator receives SIGUSR1 (a converter failing mid-run)."),
        ]
    }

    /// Parses `COL[,COL…]` (ranges `A-B` allowed) into physical ADC columns, each below `columns`.
    public static func adcColumns(_ text: String, option: String, columns: Int) throws(FamilyOptionError) -> [Int] {
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            guard (1...2).contains(ends.count), let a = ends.first ?? nil, let b = ends.last ?? nil, a <= b else {
                throw .invalid(name: option, value: text, why: "give ADC columns as COL[,COL…] or A-B ranges, e.g. 0,1,4-7")
            }
            guard a >= 0, b < columns else {
                throw .invalid(
                    name: option, value: text,
                    why: "the board has \(columns) ADC columns, numbered 0…\(columns - 1) (two per differential output)")
            }
            out.formUnion(a...b)
        }
        return out.sorted()
    }

    /// `0…3, 7` style summary of sorted columns (runs of three or more shortened).
    public static func columnList(_ columns: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < columns.count {
            var j = i
            while j + 1 < columns.count, columns[j + 1] == columns[j] + 1 { j += 1 }
            parts.append(j - i >= 2 ? "\(columns[i])…\(columns[j])" : (i...j).map { "\(columns[$0])" }.joined(separator: ", "))
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        var config = settings.ideal ? CrossbarConfig.ideal : CrossbarConfig()
        config.rows = settings.options.integer("rows") ?? defaultRows
        config.outputs = settings.options.integer("outputs") ?? defaultOutputs
        config.seed = settings.seed
        if let spread = settings.options.number("adc-gain-spread") { config.adcGainSpread = spread }
        if let spread = settings.options.number("adc-offset-spread") { config.adcOffsetSpread = spread }
        let armed = try settings.options.text("break-adc-on-signal").map { text throws(FamilyOptionError) in
            try adcColumns(text, option: "break-adc-on-signal", columns: config.physicalColumns)
        }
        if let text = settings.options.text("break-adc") {
            let dead = try adcColumns(text, option: "break-adc", columns: config.physicalColumns)
            config.deadColumns = Array(Set(config.deadColumns + dead)).sorted()
        }
        return CrossbarEmulator(
            physics: try CrossbarPhysics(config: config), serial: settings.serial ?? "EMU-\(settings.seed)",
            armedADCColumns: armed ?? [])
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
