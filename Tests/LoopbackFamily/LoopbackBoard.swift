import PNNCore
import PNNLink
import PNNWire

/// The host driver of a loopback board: a one-parameter `Substrate` over a wire link.
/// Batches larger than the board's limit are split; probes hold θ for one request each.
public actor LoopbackBoard: Substrate {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let geometry: LoopbackGeometry
    /// Whether the board announced itself as an emulator.
    public nonisolated let isEmulator: Bool
    let connection: LinkConnection

    /// Wraps an open connection whose hello is a loopback board's.
    public init(connection: LinkConnection) throws(LinkError) {
        let hello = connection.hello
        do {
            geometry = try LoopbackGeometry.decode(hello.descriptor)
        } catch {
            throw .malformedReply(request: "hello", detail: "loopback descriptor: \(error)")
        }
        self.connection = connection
        isEmulator = hello.isEmulator
        descriptor = geometry.substrateDescriptor(
            identity: DeviceIdentity(family: hello.family, model: hello.model, serial: hello.serial, firmware: hello.firmware))
    }

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        guard targets.count == 1 else { throw SubstrateError.malformedReply("\(targets.count) targets for 1 parameter") }
        var w = PayloadWriter()
        w.f64(targets[0])
        let reply = try await connection.client.request(LoopbackCommand.setGain, payload: w.bytes, retry: .idempotent)
        return try Self.doubles(reply, count: 1, request: "setGain")
    }

    public func readParameters() async throws -> [Double] {
        let reply = try await connection.client.request(LoopbackCommand.readGain, retry: .idempotent)
        return try Self.doubles(reply, count: 1, request: "readGain")
    }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await run(inputs, theta: nil, repeats: 1)
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let task = Task {
            do {
                for probe in probes {
                    try Task.checkCancellation()
                    let theta = probe.changes.last(where: { $0.index == 0 })?.value
                    let outputs = try await self.run(probe.inputs, theta: theta, repeats: probe.repeats)
                    continuation.yield(
                        ProbeResult(id: probe.id, outputs: outputs, measurementCount: probe.measurementCount))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func enterSafeState() async throws {
        _ = try await connection.client.request(LoopbackCommand.safeState, retry: .idempotent)
    }

    /// Counters and state of the board.
    public func status() async throws -> LoopbackStatus {
        try LoopbackStatus.decode(try await connection.client.request(LoopbackCommand.identify, retry: .idempotent))
    }

    /// The hidden gain error of an emulated board (its `emulatorTruth` verb).
    public func emulatorGain() async throws -> Double {
        try Self.doubles(
            try await connection.client.request(LoopbackCommand.emulatorTruth, retry: .idempotent), count: 1,
            request: "emulatorTruth")[0]
    }

    /// The link session in use.
    public func client() async -> WireClient { await connection.client }

    /// Closes the link.
    public func close() async { await connection.close() }

    /// Measures `inputs` in requests of at most `maxBatch` vectors, pipelined; with `theta`
    /// the board holds that θ for these requests only.
    private func run(_ inputs: Matrix, theta: Double?, repeats: Int) async throws -> Matrix {
        let client = await connection.client
        var tickets: [(WireClient.Ticket, Int)] = []
        var first = 0
        while first < inputs.rows {
            let n = min(geometry.maxBatch, inputs.rows - first)
            var w = PayloadWriter()
            if let theta { w.f64(theta) }
            w.u16(UInt16(repeats))
            w.u16(UInt16(n))
            w.f64s(inputs.rowSlice(first..<(first + n)).storage)
            let type = theta == nil ? LoopbackCommand.measure : LoopbackCommand.probe
            tickets.append((try await client.submit(type, payload: w.bytes, retry: .idempotent), n))
            first += n
        }
        var parts: [Matrix] = []
        for (ticket, n) in tickets {
            let values = try Self.doubles(try await client.reply(to: ticket), count: n * geometry.lines, request: "measure")
            parts.append(Matrix(rows: n, cols: geometry.lines, storage: values))
        }
        return parts.isEmpty ? Matrix(rows: 0, cols: geometry.lines) : Matrix.vstack(parts)
    }

    static func doubles(_ payload: [UInt8], count: Int, request: String) throws(LinkError) -> [Double] {
        guard payload.count == count * 8 else {
            throw .malformedReply(request: request, detail: "\(payload.count) bytes, expected \(count * 8)")
        }
        var r = PayloadReader(payload)
        do {
            return try r.f64s(count, field: "values")
        } catch {
            throw .malformedReply(request: request, detail: error.description)
        }
    }
}
