import PNNCore
import PNNLink
import PNNWire

/// The host driver of a crossbar board: a `Substrate` over a wire link, so the trainers
/// run on a board exactly as on the twin. Requests are pipelined (input batches are
/// uploaded once into a slot and referenced by every probe), the board's safe ranges come
/// from its hello, and a dropped link is reconnected transparently: the driver reopens the
/// port, checks it is the same board, re-programs the last targets and repeats the work
/// that was in flight.
public actor CrossbarBoard: Substrate, ReconnectingDriver {
    public nonisolated let descriptor: SubstrateDescriptor
    /// Geometry and ranges the board declared.
    public nonisolated let geometry: CrossbarGeometry
    /// Whether the board announced itself as an emulator.
    public nonisolated let isEmulator: Bool
    /// The link to the board (reconnects after unplugs).
    public nonisolated let connection: LinkConnection
    private var lastTargets: [Double]?
    private var slots: [Matrix?] = Array(repeating: nil, count: CrossbarCommand.inputSlots)
    private var nextSlot = 0
    /// Request sizes in force. They start at the board's limits and are halved whenever a
    /// request times out, so a noisy link (where long frames rarely arrive intact) still
    /// makes progress with shorter frames instead of failing.
    private var vectorsPerRequest: Int
    private var targetsPerRequest: Int
    private var valuesPerRead = 511
    private var bytesPerLoad = 4_073
    /// Times the request sizes were halved after timeouts.
    public private(set) var shrinks = 0
    /// Read voltage used for conductance read-backs, V.
    public nonisolated let readVoltage: Double

    /// Wraps an open connection whose hello is a crossbar's.
    public init(connection: LinkConnection) throws(LinkError) {
        let hello = connection.hello
        let geometry: CrossbarGeometry
        do {
            geometry = try CrossbarGeometry.decode(hello.descriptor)
        } catch {
            throw .malformedReply(request: "hello", detail: "crossbar descriptor: \(error)")
        }
        let (caps, emulator) = CrossbarCapabilityBits.decode(hello.capabilities)
        self.connection = connection
        self.geometry = geometry
        self.isEmulator = emulator
        self.readVoltage = min(0.2, geometry.vReadMax)
        self.vectorsPerRequest = geometry.maxBatch
        self.targetsPerRequest = geometry.maxTargets
        self.descriptor = geometry.substrateDescriptor(
            identity: DeviceIdentity(family: hello.family, model: hello.model, serial: hello.serial, firmware: hello.firmware),
            capabilities: caps)
    }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        guard targets.count == geometry.devices else {
            throw SubstrateError.malformedReply("\(targets.count) targets for \(geometry.devices) devices")
        }
        lastTargets = targets
        return try await withReconnect { client in
            try await self.program(targets, on: client)
            return try await self.readAll(on: client)
        }
    }

    public func readParameters() async throws -> [Double] {
        try await withReconnect { client in try await self.readAll(on: client) }
    }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await withReconnect { client in
            var out = Matrix(rows: inputs.rows, cols: self.geometry.outputs)
            var first = 0
            while first < inputs.rows {
                let n = min(self.vectorsPerRequest, inputs.rows - first)
                let batch = n == inputs.rows ? inputs : inputs.rowSlice(first, n)
                let slot = try await self.load(batch, on: client)
                let payload = try await client.request(
                    CrossbarCommand.measure, payload: Self.slotPayload(slot, repeats: 1), retry: .idempotent,
                    timeout: self.timeout(vectors: n))
                let m = try Self.outputs(payload, rows: n, cols: self.geometry.outputs, request: "measure")
                for r in 0..<n { for c in 0..<self.geometry.outputs { out[first + r, c] = m[r, c] } }
                first += n
            }
            return out
        }
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let task = Task { await self.run(probes, into: continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func enterSafeState() async throws {
        try await withReconnect { client in
            _ = try await client.request(CrossbarCommand.safeState, retry: .deduplicated)
        }
    }

    // MARK: Board extras

    /// Counters and state of the board.
    public func status() async throws -> CrossbarStatus {
        try await withReconnect { client in
            let payload = try await client.request(CrossbarCommand.identify, retry: .idempotent)
            return try CrossbarStatus.decode(payload)
        }
    }

    /// The link session in use (for statistics and health checks).
    public func client() async -> WireClient { await connection.client }

    /// Successful reconnections so far.
    public func reconnections() async -> Int { await connection.reconnections }

    /// Closes the link.
    public func close() async { await connection.close() }

    // MARK: Work

    private func program(_ targets: [Double], on client: WireClient) async throws {
        var tickets: [WireClient.Ticket] = []
        var first = 0
        while first < targets.count {
            let n = min(targetsPerRequest, targets.count - first)
            var w = PayloadWriter()
            w.u32(UInt32(first))
            w.u16(UInt16(n))
            w.f64s(targets[first..<(first + n)])
            tickets.append(try await client.submit(CrossbarCommand.queueTargets, payload: w.bytes, retry: .deduplicated))
            first += n
        }
        for t in tickets { _ = try await client.reply(to: t) }
        _ = try await client.request(
            CrossbarCommand.execute, retry: .deduplicated, timeout: max(1, Double(geometry.devices) * 0.001))
    }

    private func readAll(on client: WireClient) async throws -> [Double] {
        let perRequest = max(1, valuesPerRead / geometry.columns)
        var tickets: [(WireClient.Ticket, Int)] = []
        var row = 0
        while row < geometry.rows {
            let n = min(perRequest, geometry.rows - row)
            let payload = Self.readRequest(row0: row, rows: n, col0: 0, cols: geometry.columns, vRead: readVoltage)
            tickets.append((try await client.submit(CrossbarCommand.read, payload: payload, retry: .idempotent), n))
            row += n
        }
        var values: [Double] = []
        values.reserveCapacity(geometry.devices)
        for (t, n) in tickets {
            let payload = try await client.reply(to: t)
            values += try ReplyPayload.doubles(payload, count: n * geometry.columns, request: "read")
        }
        return values
    }

    /// Uploads `inputs` for a measurement stream.
    func loadForStream(_ inputs: Matrix, on client: WireClient) async throws -> UInt8 {
        try await load(inputs, on: client)
    }

    /// Makes sure a slot holds `inputs` and returns it (uploading only when needed).
    private func load(_ inputs: Matrix, on client: WireClient) async throws -> UInt8 {
        if let hit = slots.firstIndex(where: { $0 == inputs }) { return UInt8(hit) }
        let slot = nextSlot
        nextSlot = (nextSlot + 1) % slots.count
        slots[slot] = nil
        let perRequest = max(1, bytesPerLoad / (8 * geometry.rows))
        var tickets: [WireClient.Ticket] = []
        var first = 0
        while first < inputs.rows {
            let n = min(perRequest, inputs.rows - first)
            var w = PayloadWriter()
            w.u8(UInt8(slot))
            w.u16(UInt16(inputs.rows))
            w.u16(UInt16(first))
            w.u16(UInt16(n))
            w.f64s(inputs.storage[(first * geometry.rows)..<((first + n) * geometry.rows)])
            tickets.append(try await client.submit(CrossbarCommand.loadInputs, payload: w.bytes, retry: .idempotent))
            first += n
        }
        for t in tickets { _ = try await client.reply(to: t) }
        slots[slot] = inputs
        return UInt8(slot)
    }

    private func run(_ probes: [Probe], into continuation: AsyncThrowingStream<ProbeResult, any Error>.Continuation) async {
        var delivered = 0
        var reconnects = 0
        while delivered < probes.count {
            let client = await connection.client
            do {
                try await pipeline(Array(probes[delivered...]), on: client) { result in
                    continuation.yield(result)
                    delivered += 1
                }
                break
            } catch LinkError.timedOut where shrink() {
                continue
            } catch let error as LinkError where error.isConnectionLoss && reconnects < 5 {
                reconnects += 1
                do {
                    try await recover(after: error)
                } catch {
                    continuation.finish(throwing: error)
                    return
                }
            } catch {
                continuation.finish(throwing: error)
                return
            }
            if Task.isCancelled { break }
        }
        continuation.finish()
    }

    /// Submits every probe (waiting only for window space) while results are collected in order.
    private func pipeline(_ probes: [Probe], on client: WireClient, deliver: (ProbeResult) -> Void) async throws {
        var pending: [PendingProbe] = []
        var next = 0
        while next < probes.count {
            if Task.isCancelled { return }
            let probe = probes[next]
            guard probe.changes.count <= geometry.maxTargets else {
                throw SubstrateError.malformedReply(
                    "a probe changes \(probe.changes.count) devices; the board takes \(geometry.maxTargets)")
            }
            var parts: [(WireClient.Ticket, Int)] = []
            var first = 0
            while first < probe.inputs.rows {
                let n = min(vectorsPerRequest, probe.inputs.rows - first)
                let batch = n == probe.inputs.rows ? probe.inputs : probe.inputs.rowSlice(first, n)
                let slot = try await load(batch, on: client)
                var w = PayloadWriter()
                w.u8(slot)
                w.u16(UInt16(probe.repeats))
                w.u16(UInt16(probe.changes.count))
                for change in probe.changes {
                    w.u32(UInt32(change.index))
                    w.f64(change.value)
                }
                parts.append(
                    (
                        try await client.submit(
                            CrossbarCommand.probe, payload: w.bytes, retry: .deduplicated,
                            timeout: timeout(vectors: n * probe.repeats)), n
                    ))
                first += n
            }
            pending.append(PendingProbe(probe: probe, parts: parts))
            next += 1
            while pending.count > 64 { deliver(try await collect(pending.removeFirst(), on: client)) }
        }
        while !pending.isEmpty { deliver(try await collect(pending.removeFirst(), on: client)) }
    }

    private struct PendingProbe: Sendable {
        var probe: Probe
        var parts: [(WireClient.Ticket, Int)]
    }

    private func collect(_ entry: PendingProbe, on client: WireClient) async throws -> ProbeResult {
        var out = Matrix(rows: entry.probe.inputs.rows, cols: geometry.outputs)
        var row = 0
        for (ticket, n) in entry.parts {
            let m = try Self.outputs(try await client.reply(to: ticket), rows: n, cols: geometry.outputs, request: "probe")
            for r in 0..<n { for c in 0..<geometry.outputs { out[row + r, c] = m[r, c] } }
            row += n
        }
        return ProbeResult(id: entry.probe.id, outputs: out, measurementCount: entry.probe.measurementCount)
    }

    // MARK: Recovery

    /// After a reconnect: the board's input slots are gone; the last programmed targets are
    /// programmed again.
    public func restore(on client: WireClient) async throws {
        slots = Array(repeating: nil, count: slots.count)
        if let targets = lastTargets { try await program(targets, on: client) }
    }

    /// A timeout first halves the request sizes (``shrink()``), then counts as a lost link.
    public func retryAfterTimeout() -> Bool { shrink() }

    /// Halves the request sizes after a timeout; false once they are at their floor (then the
    /// timeout is treated as a lost link).
    private func shrink() -> Bool {
        guard bytesPerLoad > 256 || vectorsPerRequest > 1 || targetsPerRequest > 8 || valuesPerRead > 32 else { return false }
        bytesPerLoad = max(256, bytesPerLoad / 2)
        vectorsPerRequest = max(1, vectorsPerRequest / 2)
        targetsPerRequest = max(8, targetsPerRequest / 2)
        valuesPerRead = max(32, valuesPerRead / 2)
        slots = Array(repeating: nil, count: slots.count)
        shrinks += 1
        return true
    }

    private func timeout(vectors: Int) -> Double { max(0.2, Double(vectors) * 0.002) }

    // MARK: Payload helpers

    static func slotPayload(_ slot: UInt8, repeats: Int) -> [UInt8] {
        var w = PayloadWriter()
        w.u8(slot)
        w.u16(UInt16(repeats))
        return w.bytes
    }

    /// `read` request (§13.3): `rows × cols` devices from (row0, col0) at `vRead` volts.
    static func readRequest(row0: Int, rows: Int, col0: Int, cols: Int, vRead: Double) -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(row0))
        w.u16(UInt16(rows))
        w.u16(UInt16(col0))
        w.u16(UInt16(cols))
        w.f64(vRead)
        return w.bytes
    }

    static func outputs(_ payload: [UInt8], rows: Int, cols: Int, request: String) throws(LinkError) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: try ReplyPayload.doubles(payload, count: rows * cols, request: request))
    }
}

extension Matrix {
    /// Rows `first ..< first + count` as a new matrix.
    func rowSlice(_ first: Int, _ count: Int) -> Matrix {
        Matrix(rows: count, cols: cols, storage: Array(storage[(first * cols)..<((first + count) * cols)]))
    }
}
