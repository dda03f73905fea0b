import Foundation
import PNNCore
import PNNLink
import PNNWire
import Synchronization

/// One frame as the host received it: what the camera said about it and its pixel values
/// (in the pixel format's units, row-major, ROI width × height).
public struct CameraGrab: Sendable, Equatable {
    public var info: CameraFrameInfo
    public var pixels: [Double]
    /// Byte ranges asked for again because their chunks did not arrive.
    public var resends: Int
}

/// Why the host refused to send a camera command, or could not trust a frame.
public enum CameraError: Error, Equatable, CustomStringConvertible {
    /// A feature value outside the camera's declared safe range (checked before a byte is sent).
    case outOfRange(feature: String, value: Double, lower: Double, upper: Double)
    /// A feature the camera does not offer (a pixel format, trigger line 1).
    case notOffered(String)
    /// The frame's bytes did not arrive complete, or their CRC-32 differs from the camera's.
    case frameDamaged(String)

    public var description: String {
        switch self {
        case .outOfRange(let f, let v, let lo, let hi): "camera: \(f) = \(v) is outside the safe range \(lo)…\(hi)"
        case .notOffered(let what): "camera: \(what) is not offered by this camera"
        case .frameDamaged(let why): "camera frame: \(why)"
        }
    }
}

/// Chunks of device → host bulk transfers as they are read, kept per transfer id (the last
/// few transfers only) until the driver claims them.
final class BulkInbox: Sendable {
    private let chunks = Mutex<[UInt16: [BulkChunk]]>([:])
    private let order = Mutex<[UInt16]>([])

    func accept(_ chunk: BulkChunk) {
        chunks.withLock { c in
            if c[chunk.transferID] == nil {
                order.withLock { o in
                    o.append(chunk.transferID)
                    if o.count > 4 { c.removeValue(forKey: o.removeFirst()) }
                }
            }
            c[chunk.transferID, default: []].append(chunk)
        }
    }

    /// Takes every chunk received for `id`.
    func take(_ id: UInt16) -> [BulkChunk] {
        chunks.withLock { $0.removeValue(forKey: id) ?? [] }
    }
}

/// The host driver of a camera over a link (docs/protocol.md §16): GenICam-named features
/// checked against the camera's declared safe ranges before they are sent, acquisition,
/// software triggers, and grabs whose pixels arrive as CRC-32 bulk chunks (missing ranges
/// asked for again, the whole frame checked against the camera's CRC-32).
///
/// As a `Substrate` it has no parameters and no inputs; its outputs are the ROI's pixels
/// (one software-triggered frame per input row). An optics rig pairs it with an SLM.
public actor CameraDevice: Substrate, ReconnectingDriver {
    public nonisolated let descriptor: SubstrateDescriptor
    public nonisolated let info: CameraInfo
    public nonisolated let connection: LinkConnection
    public nonisolated let isEmulator: Bool
    private let inbox = BulkInbox()
    private var transferID: UInt16 = 0
    /// Features written, replayed after a reconnect.
    private var written: [(CameraFeature, Double)] = []
    private var acquiring = false
    /// Longest grab wait, s.
    public static let grabTimeout = 5.0

    /// Wraps an open connection whose hello is a camera's.
    public init(connection: LinkConnection) throws {
        let hello = connection.hello
        do {
            info = try CameraInfo.decode(hello.descriptor)
        } catch {
            throw LinkError.malformedReply(request: "hello", detail: "camera descriptor: \(error)")
        }
        let (caps, emulator) = HelloCapabilityBits.decode(hello.capabilities)
        isEmulator = emulator
        self.connection = connection
        let top = Double((1 << 16) - 1)
        descriptor = SubstrateDescriptor(
            identity: DeviceIdentity(family: hello.family, model: hello.model, serial: hello.serial, firmware: hello.firmware),
            parameters: ParameterSpace(count: 0, lower: 0, upper: 0, resolution: 0, unit: .dimensionless),
            inputs: ChannelSpace(count: 0, lower: 0, upper: 0, resolution: 0, unit: .dimensionless),
            outputs: ChannelSpace(
                count: info.sensorWidth * info.sensorHeight, lower: 0, upper: top, resolution: 1, unit: .count),
            capabilities: caps, maxBatch: 1024)
    }

    // MARK: Substrate

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] { [] }
    public func readParameters() async throws -> [Double] { [] }

    /// One software-triggered frame per input row (TriggerMode is set On, Software).
    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await set(.triggerMode, 1)
        try await set(.triggerSource, 0)
        try await start()
        var rows: [[Double]] = []
        for _ in 0..<inputs.rows {
            try await triggerSoftware()
            rows.append(try await grab().pixels)
        }
        let cols = rows.first?.count ?? 0
        return Matrix(rows: rows.count, cols: cols, storage: rows.flatMap { $0 })
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        ProbeStream.sequential(probes) { probe in
            let out = try await self.uncheckedMeasure(probe.inputs)
            return ProbeResult(id: probe.id, outputs: out, measurementCount: probe.inputs.rows)
        }
    }

    public func enterSafeState() async throws {
        acquiring = false
        try await withReconnect { client in _ = try await client.request(CameraCommand.safeState, retry: .deduplicated) }
    }

    public func restore(on client: WireClient) async throws {
        for (f, v) in written { _ = try await write(f, v, on: client) }
        if acquiring { _ = try await client.request(CameraCommand.acquisitionStart, retry: .idempotent) }
    }

    // MARK: Camera verbs

    /// Writes a feature after checking it against the declared safe range; returns the value applied.
    @discardableResult
    public func set(_ feature: CameraFeature, _ value: Double) async throws -> Double {
        let range = info.range(of: feature)
        guard value.isFinite, range.contains(value) else {
            throw CameraError.outOfRange(
                feature: feature.description, value: value, lower: range.lowerBound, upper: range.upperBound)
        }
        if feature == .pixelFormat, let p = PixelFormat(rawValue: UInt8(value)), !info.formats.contains(p) {
            throw CameraError.notOffered("PixelFormat \(p)")
        }
        if feature == .triggerSource, value == 1, !info.lineTrigger { throw CameraError.notOffered("TriggerSource Line1") }
        let applied = try await withReconnect { client in try await self.write(feature, value, on: client) }
        written.removeAll { $0.0 == feature }
        written.append((feature, value))
        return applied
    }

    /// Reads a feature.
    public func get(_ feature: CameraFeature) async throws -> Double {
        try await withReconnect { client in
            var r = PayloadReader(
                try await client.request(CameraCommand.getFeature, payload: [feature.rawValue], retry: .idempotent))
            return try r.f64("value")
        }
    }

    /// AcquisitionStart.
    public func start() async throws {
        try await withReconnect { client in _ = try await client.request(CameraCommand.acquisitionStart, retry: .idempotent) }
        acquiring = true
    }

    /// AcquisitionStop.
    public func stop() async throws {
        try await withReconnect { client in _ = try await client.request(CameraCommand.acquisitionStop, retry: .idempotent) }
        acquiring = false
    }

    /// TriggerSoftware: an exposure starts now; returns its frame id.
    @discardableResult
    public func triggerSoftware() async throws -> UInt64 {
        try await withReconnect { client in
            var r = PayloadReader(try await client.request(CameraCommand.triggerSoftware, retry: .deduplicated))
            return try r.u64("frameID")
        }
    }

    /// Drops every buffered frame; returns how many.
    @discardableResult
    public func flush() async throws -> Int {
        try await withReconnect { client in
            var r = PayloadReader(try await client.request(CameraCommand.flush, retry: .deduplicated))
            return Int(try r.u16("dropped"))
        }
    }

    /// Counters and modes.
    public func status() async throws -> CameraStatus {
        try await withReconnect { client in
            try CameraStatus.decode(try await client.request(CameraCommand.status, retry: .idempotent))
        }
    }

    /// The oldest buffered frame, waiting up to `timeout` s for one.
    public func grab(timeout: Double = CameraDevice.grabTimeout) async throws -> CameraGrab {
        guard timeout.isFinite, timeout >= 0, timeout <= 60 else {
            throw CameraError.outOfRange(feature: "grab timeout", value: timeout, lower: 0, upper: 60)
        }
        return try await withReconnect { client in try await self.grab(timeout: timeout, on: client) }
    }

    // MARK: Wire

    func write(_ feature: CameraFeature, _ value: Double, on client: WireClient) async throws -> Double {
        var w = PayloadWriter()
        w.u8(feature.rawValue)
        w.f64(value)
        var r = PayloadReader(try await client.request(CameraCommand.setFeature, payload: w.bytes, retry: .idempotent))
        return try r.f64("value")
    }

    func grab(timeout: Double, on client: WireClient) async throws -> CameraGrab {
        let inbox = self.inbox
        await client.receiveBulk { inbox.accept($0) }
        transferID &+= 1
        let id = transferID
        var w = PayloadWriter()
        w.f64(timeout)
        w.u16(id)
        let frame = try CameraFrameInfo.decode(
            try await client.request(CameraCommand.grab, payload: w.bytes, retry: .deduplicated, timeout: timeout + 2))
        var assembly = try BulkReassembler(transferID: id, total: frame.total)
        var resends = 0
        while true {
            for chunk in inbox.take(id) {
                do {
                    try assembly.accept(chunk)
                } catch {
                    throw CameraError.frameDamaged(error.description)
                }
            }
            if let bytes = assembly.data {
                guard CRC32.checksum(bytes) == frame.crc else {
                    throw CameraError.frameDamaged("the pixels' CRC-32 differs from the camera's")
                }
                return CameraGrab(info: frame, pixels: frame.format.decode(bytes), resends: resends)
            }
            guard resends < 8 else {
                throw CameraError.frameDamaged("\(assembly.missing.count) byte ranges still missing after 8 resends")
            }
            for gap in assembly.missing {
                var q = PayloadWriter()
                q.u16(id)
                q.u32(UInt32(gap.lowerBound))
                q.u32(UInt32(gap.count))
                _ = try await client.request(CameraCommand.resend, payload: q.bytes, retry: .idempotent)
                resends += 1
            }
        }
    }
}
