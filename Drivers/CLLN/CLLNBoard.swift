import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The host driver of a CLLN board: a `Substrate` with clamping, node readout, on-board
/// learning and on-board schedules, over a wire link, so trainers and calibration run on a
/// board exactly as on the twin. Ranges come from the board's hello; the topology is read
/// once at attach time and checked against the hello's CRC-32. A dropped link is reopened
/// transparently: the driver checks it is the same board, re-sends the sources and clamp it
/// last set (and the gates it last programmed, unless learning has moved them since) and
/// repeats the request in flight. A schedule interrupted by a lost link fails instead.
public actor CLLNBoard: Substrate, Clampable, NodeReadout, SelfLearning, OnBoardTraining, ReconnectingDriver {
    public nonisolated let descriptor: SubstrateDescriptor
    /// Sizes, physics facts and ranges the board declared.
    public nonisolated let info: CLLNBoardInfo
    public nonisolated let topology: NetworkTopology
    /// Whether the board announced itself as an emulator.
    public nonisolated let isEmulator: Bool
    public nonisolated var maxLearnSeconds: Double { info.maxLearn }
    /// The link to the board (reconnects after unplugs).
    public nonisolated let connection: LinkConnection
    private var lastSources: [Double]?
    private var lastClamp: ClampSetting?
    private var programmedGates: [Double]?

    /// Wraps an open connection whose hello is a CLLN board's and reads its topology.
    public init(connection: LinkConnection) async throws {
        let hello = connection.hello
        let info: CLLNBoardInfo
        do {
            info = try CLLNBoardInfo.decode(hello.descriptor)
        } catch {
            throw LinkError.malformedReply(request: "hello", detail: "CLLN descriptor: \(error)")
        }
        let (caps, emulator) = CLLNCapabilityBits.decode(hello.capabilities)
        let bytes = try await Self.pages(CLLNCommand.topology, on: await connection.client)
        guard bytes.count == info.topologyBytes, CRC32.checksum(bytes) == info.topologyCRC else {
            throw CLLNBoardError.topologyMismatch("\(bytes.count) bytes, CRC-32 differs from the hello's")
        }
        let topology = try CLLNCoding.decodeTopology(bytes)
        guard topology.nodeCount == info.nodes, topology.edges.count == info.edges,
            topology.trainableEdges.count == info.trainable, topology.inputNodes.count == info.inputs,
            topology.outputs.count == info.outputs
        else { throw CLLNBoardError.topologyMismatch("counts differ from the hello's") }
        self.connection = connection
        self.info = info
        self.topology = topology
        self.isEmulator = emulator
        self.descriptor = info.substrateDescriptor(
            identity: DeviceIdentity(family: hello.family, model: hello.model, serial: hello.serial, firmware: hello.firmware),
            capabilities: caps)
    }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        guard targets.count == info.trainable else {
            throw SubstrateError.malformedReply("\(targets.count) gate voltages for \(info.trainable) trainable edges")
        }
        programmedGates = targets
        return try await withReconnect { client in
            try await self.writeGates(targets, on: client)
            return try await self.readAll(CLLNCommand.readGates, prefix: [], count: self.info.trainable, on: client)
        }
    }

    public func readParameters() async throws -> [Double] {
        try await withReconnect { client in
            try await self.readAll(CLLNCommand.readGates, prefix: [], count: self.info.trainable, on: client)
        }
    }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await withReconnect { client in try await self.measure(inputs, on: client) }
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { try await self.run($0) }
    }

    public func enterSafeState() async throws {
        lastSources = nil
        lastClamp = nil
        try await withReconnect { client in
            _ = try await client.request(CLLNCommand.safeState, retry: .deduplicated)
        }
    }

    // MARK: Clampable, NodeReadout, SelfLearning

    public func uncheckedApplyInputs(_ inputs: [Double]) async throws {
        lastSources = inputs
        try await withReconnect { client in try await self.sendSources(inputs, on: client) }
    }

    public func uncheckedSetClamp(_ setting: ClampSetting) async throws {
        lastClamp = setting
        try await withReconnect { client in try await self.sendClamp(setting, on: client) }
    }

    public func readNodes(_ side: NetworkSide) async throws -> [Double] {
        try await withReconnect { client in
            try await self.readAll(CLLNCommand.readNodes, prefix: [side.rawValue], count: self.info.nodes, on: client)
        }
    }

    public func uncheckedLearn(seconds: Double) async throws {
        programmedGates = nil
        var w = PayloadWriter()
        w.f64(seconds)
        try await withReconnect { client in
            _ = try await client.request(
                CLLNCommand.learn, payload: w.bytes, retry: .deduplicated, timeout: 2 + 20 * seconds)
        }
    }

    // MARK: Board extras

    /// Counters and state of the board.
    public func status() async throws -> CLLNStatus {
        try await withReconnect { client in
            try CLLNStatus.decode(try await client.request(CLLNCommand.identify, retry: .idempotent))
        }
    }

    /// Sets every trainable edge's gate voltage to `gate` (checked against [0, G_max]).
    public func resetGates(to gate: Double) async throws {
        guard gate.isFinite, gate >= 0, gate <= info.gateMax else {
            throw SafetyViolation.parameterOutOfRange(
                name: "G (all edges)", value: gate, lower: 0, upper: info.gateMax, unit: "V")
        }
        programmedGates = Array(repeating: gate, count: info.trainable)
        var w = PayloadWriter()
        w.f64(gate)
        try await withReconnect { client in
            _ = try await client.request(CLLNCommand.resetGates, payload: w.bytes, retry: .deduplicated)
        }
    }

    /// The emulator's full state as JSON bytes (hidden A0 and B); real boards refuse.
    public func emulatorStateJSON() async throws -> [UInt8] {
        guard isEmulator else { throw CLLNBoardError.notAnEmulator(serial: descriptor.identity.serial) }
        return try await withReconnect { client in try await Self.pages(CLLNCommand.debugState, on: client) }
    }

    /// The emulator's full simulation state (hidden A0 and B), for calibration reports;
    /// real boards cannot reveal it (``CLLNBoardError/notAnEmulator(serial:)``).
    public func emulatorState() async throws -> CLLNState {
        try CLLNState.importJSON(Data(try await emulatorStateJSON()))
    }

    /// The link session in use (for statistics and health checks).
    public func client() async -> WireClient { await connection.client }

    /// Successful reconnections so far.
    public func reconnections() async -> Int { await connection.reconnections }

    /// Closes the link.
    public func close() async { await connection.close() }

    // MARK: Work

    private func sendSources(_ v: [Double], on client: WireClient) async throws {
        var w = PayloadWriter()
        w.f64s(v)
        _ = try await client.request(CLLNCommand.setSources, payload: w.bytes, retry: .deduplicated)
    }

    private func sendClamp(_ s: ClampSetting, on client: WireClient) async throws {
        var w = PayloadWriter()
        w.u8(s.mode.rawValue)
        w.f64(s.eta)
        w.f64s(s.targets)
        _ = try await client.request(CLLNCommand.setClamp, payload: w.bytes, retry: .deduplicated)
    }

    private func writeGates(_ gates: [Double], on client: WireClient) async throws {
        var tickets: [WireClient.Ticket] = []
        var first = 0
        while first < gates.count {
            let n = min(CLLNCommand.maxValues, gates.count - first)
            var w = PayloadWriter()
            w.u16(UInt16(first))
            w.u16(UInt16(n))
            w.f64s(gates[first..<(first + n)])
            tickets.append(try await client.submit(CLLNCommand.writeGates, payload: w.bytes, retry: .deduplicated))
            first += n
        }
        for t in tickets { _ = try await client.reply(to: t) }
    }

    /// Reads `count` f64 values with a paged `prefix | first u16 | n u16` request.
    private func readAll(_ type: FrameType, prefix: [UInt8], count: Int, on client: WireClient) async throws -> [Double] {
        var tickets: [(WireClient.Ticket, Int)] = []
        var first = 0
        while first < count {
            let n = min(CLLNCommand.maxValues, count - first)
            var w = PayloadWriter()
            w.raw(prefix)
            w.u16(UInt16(first))
            w.u16(UInt16(n))
            tickets.append((try await client.submit(type, payload: w.bytes, retry: .idempotent), n))
            first += n
        }
        var values: [Double] = []
        for (t, n) in tickets {
            values += try ReplyPayload.doubles(try await client.reply(to: t), count: n, request: "\(type)")
        }
        return values
    }

    private func measure(_ inputs: Matrix, on client: WireClient) async throws -> Matrix {
        let perRequest = max(1, min(info.maxBatch, CLLNCommand.maxValues / max(info.inputs, info.outputs)))
        var out = Matrix(rows: inputs.rows, cols: info.outputs)
        var tickets: [(WireClient.Ticket, Int, Int)] = []
        var first = 0
        while first < inputs.rows {
            let n = min(perRequest, inputs.rows - first)
            var w = PayloadWriter()
            w.u16(UInt16(n))
            w.f64s(inputs.storage[(first * info.inputs)..<((first + n) * info.inputs)])
            tickets.append(
                (try await client.submit(CLLNCommand.measure, payload: w.bytes, retry: .idempotent), first, n))
            first += n
        }
        for (t, row0, n) in tickets {
            let values = try ReplyPayload.doubles(try await client.reply(to: t), count: n * info.outputs, request: "measure")
            for r in 0..<n { for c in 0..<info.outputs { out[row0 + r, c] = values[r * info.outputs + c] } }
        }
        return out
    }

    /// One probe: hold the changed gates, measure with repeats averaged, restore the gates.
    /// The gates to restore are read once: a retry after a reconnect must not take the
    /// probe's own changed gates (still on the board) for the ones to restore.
    private func run(_ probe: Probe) async throws -> ProbeResult {
        var original: [Double]?
        return try await withReconnect { client in
            var saved: [Double] = []
            if !probe.changes.isEmpty {
                if original == nil {
                    original = try await self.readAll(
                        CLLNCommand.readGates, prefix: [], count: self.info.trainable, on: client)
                }
                saved = original ?? []
                var changed = saved
                for c in probe.changes { changed[c.index] = c.value }
                try await self.writeGates(changed, on: client)
            }
            var sum = try await self.measure(probe.inputs, on: client)
            for _ in 1..<probe.repeats {
                let next = try await self.measure(probe.inputs, on: client)
                for i in sum.storage.indices { sum.storage[i] += next.storage[i] }
            }
            for i in sum.storage.indices { sum.storage[i] /= Double(probe.repeats) }
            if !probe.changes.isEmpty { try await self.writeGates(saved, on: client) }
            return ProbeResult(id: probe.id, outputs: sum, measurementCount: probe.measurementCount)
        }
    }

    /// Reads a paged blob (`offset u32 -> total u32, bytes`).
    static func pages(_ type: FrameType, on client: WireClient) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var total = Int.max
        while bytes.count < total {
            var w = PayloadWriter()
            w.u32(UInt32(bytes.count))
            var r = PayloadReader(try await client.request(type, payload: w.bytes, retry: .idempotent))
            total = Int(try r.u32("total"))
            let part = r.rest()
            guard !part.isEmpty || bytes.count == total else {
                throw LinkError.malformedReply(request: "\(type)", detail: "empty page at offset \(bytes.count) of \(total)")
            }
            bytes += part
        }
        return bytes
    }

    // MARK: Recovery

    /// After a reconnect: the gates last programmed (unless learning has moved them since),
    /// the sources and the clamp last set.
    public func restore(on client: WireClient) async throws {
        if let gates = programmedGates { try await writeGates(gates, on: client) }
        if let sources = lastSources { try await sendSources(sources, on: client) }
        if let clamp = lastClamp { try await sendClamp(clamp, on: client) }
    }
}
