import Foundation
import PNNCore
import PNNLink
import PNNWire

/// The host driver of a phase SLM over a link (docs/protocol.md §15). As a `Substrate` its
/// parameters are the grey level of every macro-pixel (integers 0–255, resolution 1); it
/// has no input or output channels (`measure` shows the programmed pattern and returns
/// empty rows — an optics rig pairs it with a camera). Programming uploads the pattern into
/// slot 0 in CRC-32 bulk chunks, shows it, waits until it has settled, and checks the CRC-32
/// the SLM reports for the pattern it shows. A dropped link is reopened and the last
/// pattern uploaded and shown again.
public actor SLMDevice: Substrate, ReconnectingDriver {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let info: SLMInfo
    public nonisolated let connection: LinkConnection
    public nonisolated let isEmulator: Bool
    private var pattern: [UInt8]?
    private var transferID: UInt16 = 0
    /// Bulk chunk payload bytes (each chunk a `bulkChunk` frame with CRC-32).
    public static let chunkBytes = 4096
    /// Longest wait for a pattern to settle, s.
    public static let settleTimeout = 5.0

    /// Wraps an open connection whose hello is an SLM's.
    public init(connection: LinkConnection) throws {
        let hello = connection.hello
        do {
            info = try SLMInfo.decode(hello.descriptor)
        } catch {
            throw LinkError.malformedReply(request: "hello", detail: "SLM descriptor: \(error)")
        }
        let (caps, emulator) = HelloCapabilityBits.decode(hello.capabilities)
        isEmulator = emulator
        self.connection = connection
        descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(family: hello.family, model: hello.model, serial: hello.serial, firmware: hello.firmware),
            parameters: ParameterSpace(
                count: info.patternBytes, lower: 0, upper: 255, resolution: 1, unit: .greyLevel, naming: .indexed(prefix: "grey")),
            inputs: ChannelSpace(count: 0, lower: 0, upper: 0, resolution: 0, unit: .dimensionless),
            outputs: ChannelSpace(count: 0, lower: 0, upper: 0, resolution: 0, unit: .dimensionless),
            capabilities: caps, maxBatch: 1024)
    }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        guard targets.count == info.patternBytes else {
            throw SubstrateError.malformedReply("\(targets.count) grey levels for \(info.patternBytes) macro-pixels")
        }
        let grey = targets.map { UInt8(min(max($0.rounded(), 0), 255)) }
        pattern = grey
        try await withReconnect { client in try await self.show(grey, slot: 0, on: client) }
        return grey.map(Double.init)
    }

    public func readParameters() async throws -> [Double] {
        let shown = try await status()
        guard let pattern, shown.crc == CRC32.checksum(pattern) else {
            return Array(repeating: 0, count: info.patternBytes)
        }
        return pattern.map(Double.init)
    }

    /// An SLM measures nothing: one empty row per input row.
    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix { Matrix(rows: inputs.rows, cols: 0) }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { try await self.run($0) }
    }

    private func run(_ probe: Probe) async throws -> ProbeResult {
        if !probe.changes.isEmpty {
            var grey = pattern ?? Array(repeating: 0, count: info.patternBytes)
            for c in probe.changes { grey[c.index] = UInt8(min(max(c.value.rounded(), 0), 255)) }
            try await withReconnect { client in try await self.show(grey, slot: 1, on: client) }
            if let pattern { try await withReconnect { client in try await self.show(pattern, slot: 0, on: client) } }
        }
        return ProbeResult(id: probe.id, outputs: Matrix(rows: probe.inputs.rows, cols: 0), measurementCount: 0)
    }

    public func enterSafeState() async throws {
        try await withReconnect { client in _ = try await client.request(SLMCommand.safeState, retry: .deduplicated) }
    }

    public func restore(on client: WireClient) async throws {
        if let pattern { try await show(pattern, slot: 0, on: client) }
    }

    // MARK: SLM verbs

    /// Counters and the shown pattern's CRC-32.
    public func status() async throws -> SLMStatus {
        try await withReconnect { client in
            try SLMStatus.decode(try await client.request(SLMCommand.status, retry: .idempotent))
        }
    }

    /// Loads a grey → phase table (256 phases, rad, within 0…4π; checked here first).
    public func loadLUT(_ table: [Double]) async throws {
        guard table.count == 256, table.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 4 * .pi }) else {
            throw SubstrateError.deviceFault("a LUT is 256 finite phases within 0…4π rad")
        }
        var w = PayloadWriter()
        w.f64s(table)
        try await withReconnect { client in _ = try await client.request(SLMCommand.loadLUT, payload: w.bytes, retry: .idempotent)
        }
    }

    /// Uploads `grey` into `slot` in CRC-32 bulk chunks; returns the chunks sent.
    @discardableResult
    public func upload(_ grey: [UInt8], slot: Int) async throws -> Int {
        try await withReconnect { client in try await self.upload(grey, slot: slot, on: client) }
    }

    /// Shows `slot` and waits until the pattern has settled; returns the wait, s.
    @discardableResult
    public func show(slot: Int) async throws -> Double {
        try await withReconnect { client in try await self.showAndWait(slot: slot, on: client) }
    }

    /// Shows `slot`; with `wait`, waits until the pattern has settled (the SLM's trigger
    /// output, when on, pulses at that moment either way).
    public func show(slot: Int, wait: Bool) async throws {
        if wait {
            _ = try await show(slot: slot)
        } else {
            try await withReconnect { client in
                _ = try await client.request(SLMCommand.showSlot, payload: [UInt8(slot)], retry: .deduplicated)
            }
        }
    }

    /// Trigger-in (show on a rising edge) and trigger-out (pulse on "settled").
    public func setTriggers(input: Bool, output: Bool) async throws {
        try await withReconnect { client in
            _ = try await client.request(SLMCommand.setTriggers, payload: [input ? 1 : 0, output ? 1 : 0], retry: .idempotent)
        }
    }

    // MARK: Wire

    func upload(_ grey: [UInt8], slot: Int, on client: WireClient) async throws -> Int {
        guard grey.count == info.patternBytes, slot >= 0, slot < info.slots else {
            throw SubstrateError.deviceFault("a pattern is \(info.patternBytes) grey levels into slot 0..<\(info.slots)")
        }
        transferID &+= 1
        var w = PayloadWriter()
        w.u8(UInt8(slot))
        w.u16(transferID)
        w.u32(UInt32(grey.count))
        _ = try await client.request(SLMCommand.beginUpload, payload: w.bytes, retry: .idempotent)
        var tickets: [WireClient.Ticket] = []
        var offset = 0
        repeat {
            let end = min(offset + Self.chunkBytes, grey.count)
            let chunk = BulkChunk(
                transferID: transferID, offset: UInt32(offset), total: UInt32(grey.count), data: Array(grey[offset..<end]))
            tickets.append(try await client.submit(.bulkChunk, payload: chunk.encode(), flags: .bulk, retry: .idempotent))
            offset = end
        } while offset < grey.count
        var complete = false
        for t in tickets { complete = try BulkAck.decode(try await client.reply(to: t)).complete || complete }
        guard complete else { throw SubstrateError.deviceFault("the SLM did not report the upload complete") }
        return tickets.count
    }

    func showAndWait(slot: Int, on client: WireClient) async throws -> Double {
        _ = try await client.request(SLMCommand.showSlot, payload: [UInt8(slot)], retry: .deduplicated)
        var w = PayloadWriter()
        w.f64(Self.settleTimeout)
        var r = PayloadReader(
            try await client.request(
                SLMCommand.waitComplete, payload: w.bytes, retry: .idempotent, timeout: Self.settleTimeout + 2))
        let settled = try r.u8("settled")
        let waited = try r.f64("elapsed")
        guard settled == 1 else { throw SubstrateError.deviceFault("the pattern did not settle within \(Self.settleTimeout) s") }
        return waited
    }

    func show(_ grey: [UInt8], slot: Int, on client: WireClient) async throws {
        _ = try await upload(grey, slot: slot, on: client)
        _ = try await showAndWait(slot: slot, on: client)
        let shown = try SLMStatus.decode(try await client.request(SLMCommand.status, retry: .idempotent))
        guard shown.crc == CRC32.checksum(grey) else {
            throw SubstrateError.deviceFault("the SLM shows a pattern whose CRC-32 differs from the one uploaded")
        }
    }
}
