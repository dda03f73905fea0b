import PNNCore
import PNNLink
import PNNWire

/// The host driver of a crossbar board: a `Substrate` over a wire link, so the trainers
/// run on a board exactly as on the twin. Requests are pipelined (input batches are
/// uploaded once into a slot and referenced by every probe), the board's safe ranges come
/// from its hello, and a dropped link is reconnected transparently: the driver reopens the
/// port, checks it is the same board, re-programs the last targets and repeats the work
/// that was in flight.
public actor CrossbarBoard: Substrate, SaturationReporting, ReconnectingDriver {
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
    /// Unanswered requests (measure, probe, streamMeasure) that name each slot. A slot is
    /// reloaded only when none is left (docs/protocol.md §13.4, slot rule): a request lost
    /// on the line and re-sent later must find the inputs it was sent for.
    private var slotUsers = Array(repeating: 0, count: CrossbarCommand.inputSlots)
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    /// Caps on the request sizes. They start at the board's limits and are halved whenever
    /// a request times out; the sizes used are further limited by the link's frame budget
    /// (``WireClient/frameBudget``), which follows the line's error rate both ways.
    private var vectorsPerRequest: Int
    private var targetsPerRequest: Int
    private var valuesPerRead = 511
    private var bytesPerLoad = 4_073
    /// Times the request sizes were halved after timeouts.
    public private(set) var shrinks = 0
    /// Output readings the board flagged saturated (§13.3 Saturation) in measure and probe
    /// replies so far.
    private var saturated = 0
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
            let perRequest = await self.batchSize(rows: inputs.rows, on: client)
            while first < inputs.rows {
                let n = min(perRequest, inputs.rows - first)
                let batch = n == inputs.rows ? inputs : inputs.rowSlice(first, n)
                while self.freeSlot(for: batch) == nil { await self.waitForSlot() }
                let slot = try await self.load(batch, on: client)
                self.slotUsers[Int(slot)] += 1
                defer { self.release(slot) }
                let payload = try await client.request(
                    CrossbarCommand.measure, payload: Self.slotPayload(slot, repeats: 1), retry: .idempotent,
                    timeout: self.timeout(vectors: n))
                let m = try self.outputs(payload, rows: n, request: "measure")
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

    /// Output readings the board flagged saturated so far (a column clipped at ±fullScale).
    public func saturatedReadings() -> Int { saturated }

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
        let perRequest = max(8, min(targetsPerRequest, (await client.frameBudget - 6) / 8))
        while first < targets.count {
            let n = min(perRequest, targets.count - first)
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
        let perFrame = max(geometry.columns, min(valuesPerRead, await client.frameBudget / 8))
        let perRequest = max(1, perFrame / geometry.columns)
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

    /// Uploads `inputs` for a measurement stream (waiting until a slot is free) and marks
    /// the slot in use until ``finishedStream(slot:)``.
    func loadForStream(_ inputs: Matrix, on client: WireClient) async throws -> UInt8 {
        while freeSlot(for: inputs) == nil { await waitForSlot() }
        let slot = try await load(inputs, on: client)
        slotUsers[Int(slot)] += 1
        return slot
    }

    /// The `streamMeasure` request on `slot` was answered (or given up).
    func finishedStream(slot: UInt8) { release(slot) }

    /// Vectors per measure/probe request for inputs of `rows` vectors: the board's batch
    /// limit and the timeout-driven cap; within those, replies of at most the link's frame
    /// budget — but never so few vectors that the inputs need more than two of the four
    /// slots, or every probe of a stream would reload its inputs.
    private func batchSize(rows: Int, on client: WireClient) async -> Int {
        let budget = (await client.frameBudget - 2) / (8 * geometry.outputs)
        return max(1, min(vectorsPerRequest, max(budget, (rows + 1) / 2)))
    }

    /// The slot that already holds `inputs`, or the next slot that no unanswered request
    /// names (round robin); nil when every slot is in use.
    private func freeSlot(for inputs: Matrix) -> Int? {
        if let hit = slots.firstIndex(where: { $0 == inputs }) { return hit }
        for k in 0..<slots.count {
            let slot = (nextSlot + k) % slots.count
            if slotUsers[slot] == 0 { return slot }
        }
        return nil
    }

    private func waitForSlot() async {
        await withCheckedContinuation { slotWaiters.append($0) }
    }

    /// One request naming `slot` was answered (or given up).
    private func release(_ slot: UInt8) {
        slotUsers[Int(slot)] = max(0, slotUsers[Int(slot)] - 1)
        if slotUsers[Int(slot)] == 0 {
            let waiters = slotWaiters
            slotWaiters.removeAll()
            for w in waiters { w.resume() }
        }
    }

    /// Makes sure a slot holds `inputs` and returns it, uploading only when needed. Never
    /// reloads a slot that an unanswered request names: the caller first makes sure
    /// ``freeSlot(for:)`` finds one.
    private func load(_ inputs: Matrix, on client: WireClient) async throws -> UInt8 {
        guard let slot = freeSlot(for: inputs) else {
            throw SubstrateError.malformedReply("no free input slot (internal error: every slot has unanswered requests)")
        }
        if slots[slot] == inputs { return UInt8(slot) }
        nextSlot = (slot + 1) % slots.count
        slots[slot] = nil
        let bytes = max(8 * geometry.rows, min(bytesPerLoad, await client.frameBudget - 7))
        let perRequest = max(1, bytes / (8 * geometry.rows))
        // The chunk with first = 0 clears the slot (§13.3): it goes alone and is answered
        // before the others, so no late copy of it can wipe them. The batch is complete once
        // a reply reports every vector held.
        var tickets: [WireClient.Ticket] = []
        var held = 0
        var first = 0
        while first < inputs.rows {
            let n = min(perRequest, inputs.rows - first)
            var w = PayloadWriter()
            w.u8(UInt8(slot))
            w.u16(UInt16(inputs.rows))
            w.u16(UInt16(first))
            w.u16(UInt16(n))
            w.f64s(inputs.storage[(first * geometry.rows)..<((first + n) * geometry.rows)])
            let ticket = try await client.submit(CrossbarCommand.loadInputs, payload: w.bytes, retry: .idempotent)
            if first == 0 {
                held = max(held, try Self.held(try await client.reply(to: ticket)))
            } else {
                tickets.append(ticket)
            }
            first += n
        }
        for t in tickets { held = max(held, try Self.held(try await client.reply(to: t))) }
        guard held == inputs.rows else {
            throw LinkError.malformedReply(
                request: "loadInputs", detail: "the board holds \(held) of \(inputs.rows) vectors after the upload")
        }
        slots[slot] = inputs
        return UInt8(slot)
    }

    private static func held(_ payload: [UInt8]) throws -> Int {
        var r = PayloadReader(payload)
        do {
            let held = Int(try r.u16("held"))
            try r.expectEnd()
            return held
        } catch {
            throw LinkError.malformedReply(request: "loadInputs", detail: "\(error)")
        }
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

    /// Submits every probe (waiting only for window space) while results are collected in
    /// order. A batch that needs a slot waits (collecting older replies) until some slot has
    /// no unanswered request, so no request is ever answered from inputs loaded after it.
    private func pipeline(_ probes: [Probe], on client: WireClient, deliver: (ProbeResult) -> Void) async throws {
        var assembly = ProbeAssembly(probes: probes, outputs: geometry.outputs)
        defer { for part in assembly.parts { release(part.slot) } }  // abandoned on an error
        for (index, probe) in probes.enumerated() {
            if Task.isCancelled { return }
            guard probe.changes.count <= geometry.maxTargets else {
                throw SubstrateError.malformedReply(
                    "a probe changes \(probe.changes.count) devices; the board takes \(geometry.maxTargets)")
            }
            let perRequest = await batchSize(rows: probe.inputs.rows, on: client)
            assembly.start(index, parts: (probe.inputs.rows + perRequest - 1) / perRequest)
            var first = 0
            while first < probe.inputs.rows {
                let n = min(perRequest, probe.inputs.rows - first)
                let batch = n == probe.inputs.rows ? probe.inputs : probe.inputs.rowSlice(first, n)
                while freeSlot(for: batch) == nil {
                    if assembly.parts.isEmpty {
                        await waitForSlot()
                    } else {
                        for r in try await collectOldest(&assembly, on: client) { deliver(r) }
                    }
                }
                let slot = try await load(batch, on: client)
                slotUsers[Int(slot)] += 1
                var w = PayloadWriter()
                w.u8(slot)
                w.u16(UInt16(probe.repeats))
                w.u16(UInt16(probe.changes.count))
                for change in probe.changes {
                    w.u32(UInt32(change.index))
                    w.f64(change.value)
                }
                let ticket: WireClient.Ticket
                do {
                    ticket = try await client.submit(
                        CrossbarCommand.probe, payload: w.bytes, retry: .deduplicated,
                        timeout: timeout(vectors: n * probe.repeats))
                } catch {
                    release(slot)
                    throw error
                }
                assembly.parts.append(ProbePart(probe: index, row: first, n: n, slot: slot, ticket: ticket))
                first += n
            }
            while assembly.parts.count > 64 { for r in try await collectOldest(&assembly, on: client) { deliver(r) } }
        }
        while !assembly.parts.isEmpty { for r in try await collectOldest(&assembly, on: client) { deliver(r) } }
    }

    /// Waits for the oldest unanswered part, frees its slot, and returns the probes now complete.
    private func collectOldest(_ assembly: inout ProbeAssembly, on client: WireClient) async throws -> [ProbeResult] {
        let part = assembly.parts.removeFirst()
        defer { release(part.slot) }
        let m = try outputs(try await client.reply(to: part.ticket), rows: part.n, request: "probe")
        return assembly.accept(part, m)
    }

    /// One probe request in flight: rows `row ..< row + n` of probe number `probe`.
    private struct ProbePart: Sendable {
        var probe: Int
        var row: Int
        var n: Int
        var slot: UInt8
        var ticket: WireClient.Ticket
    }

    /// Probe results being put together from their parts, delivered in probe order.
    private struct ProbeAssembly: Sendable {
        let probes: [Probe]
        let outputs: Int
        /// Submitted, unanswered parts, oldest first.
        var parts: [ProbePart] = []
        private var results: [Int: Matrix] = [:]
        private var partsLeft: [Int: Int] = [:]
        private var nextToDeliver = 0

        init(probes: [Probe], outputs: Int) {
            self.probes = probes
            self.outputs = outputs
        }

        mutating func start(_ index: Int, parts: Int) {
            results[index] = Matrix(rows: probes[index].inputs.rows, cols: outputs)
            partsLeft[index] = parts
        }

        mutating func accept(_ part: ProbePart, _ m: Matrix) -> [ProbeResult] {
            for r in 0..<part.n { for c in 0..<outputs { results[part.probe]![part.row + r, c] = m[r, c] } }
            partsLeft[part.probe]! -= 1
            var done: [ProbeResult] = []
            while nextToDeliver < probes.count, partsLeft[nextToDeliver] == 0 {
                let probe = probes[nextToDeliver]
                done.append(
                    ProbeResult(
                        id: probe.id, outputs: results.removeValue(forKey: nextToDeliver)!,
                        measurementCount: probe.measurementCount))
                partsLeft[nextToDeliver] = nil
                nextToDeliver += 1
            }
            return done
        }
    }

    // MARK: Recovery

    /// After a reconnect: the board's input slots are gone; the last programmed targets are
    /// programmed again.
    public func restore(on client: WireClient) async throws {
        slots = Array(repeating: nil, count: slots.count)
        slotUsers = Array(repeating: 0, count: slots.count)
        for w in slotWaiters { w.resume() }
        slotWaiters.removeAll()
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

    /// The currents of a measure or probe reply (`rows` vectors); its saturation count is
    /// added to ``saturatedReadings()``.
    private func outputs(_ payload: [UInt8], rows: Int, request: String) throws(LinkError) -> Matrix {
        let readings = try Self.readings(payload, rows: rows, cols: geometry.outputs, request: request)
        saturated += readings.saturated
        return Matrix(rows: rows, cols: geometry.outputs, storage: readings.currents)
    }

    /// Parses a measure or probe reply: `rows × cols` currents and the saturation count.
    static func readings(_ payload: [UInt8], rows: Int, cols: Int, request: String) throws(LinkError) -> CrossbarReadings {
        let expected = CrossbarReadings.byteCount(rows * cols)
        guard payload.count == expected else {
            throw .malformedReply(request: request, detail: "\(payload.count) bytes, expected \(expected)")
        }
        var r = PayloadReader(payload)
        do {
            return try CrossbarReadings.decode(&r, count: rows * cols)
        } catch {
            throw .malformedReply(request: request, detail: error.description)
        }
    }
}

extension Matrix {
    /// Rows `first ..< first + count` as a new matrix.
    func rowSlice(_ first: Int, _ count: Int) -> Matrix {
        Matrix(rows: count, cols: cols, storage: Array(storage[(first * cols)..<((first + count) * cols)]))
    }
}
