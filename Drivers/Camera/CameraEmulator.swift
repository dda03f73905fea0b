import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The device side of a machine-vision camera, backed by the optics twin's sensor model
/// (`OpticsCamera`: QE, shot noise, dark signal, read noise, gain, offset, saturation,
/// quantisation): executes the command set of docs/protocol.md §16 as firmware would, with
/// its own range checks (a refused value changes nothing and is counted in `violations`).
///
/// Time is simulated and shared with the ``CameraScene`` (in `emulate optics`, with the SLM).
/// Frames are exposed
/// - free-running (TriggerMode Off): back to back, one every exposure + readout;
/// - on TriggerSoftware (TriggerMode On, TriggerSource Software): when the command arrives;
/// - on trigger line 1 (TriggerMode On, TriggerSource Line1): at each pulse of the scene's line.
/// Completed frames wait in `buffers` buffers, oldest first; when every buffer is full new
/// frames are dropped (GenICam "OldestFirst"). A grab takes the oldest buffered frame, or
/// waits (simulated time passes) for the next one up to its timeout.
public actor CameraEmulator: DeviceEndpoint {
    public nonisolated let hello: HelloReply
    public nonisolated let info: CameraInfo
    let scene: any CameraScene
    var sensor: OpticsConfig
    var noise: SeededRandom
    var roi: (x: Int, y: Int, width: Int, height: Int)
    var format: PixelFormat = .mono12
    var triggerMode = false
    var lineSource = false
    /// TriggerDelay, s: a triggered exposure starts this long after its trigger.
    var triggerDelay = 0.0
    var acquiring = false
    /// Exposures completed or under way, oldest first: frame id and start, s.
    var buffer: [(id: UInt64, start: Double)] = []
    var nextFreeRunStart = 0.0
    var lastPulse = 0.0
    var framesExposed: UInt64 = 0
    var dropped: UInt32 = 0
    var violations: UInt32 = 0
    /// The last grabbed frame's transfer and bytes (for `resend`).
    var held: (transferID: UInt16, bytes: [UInt8])?
    /// Every frame grabbed: id and exposure start, s (for tests of synchronisation).
    public private(set) var grabbed: [(id: UInt64, start: Double)] = []

    /// A camera with `config`'s sensor (size, bits, noise model) looking at `scene`.
    public init(config: OpticsConfig, scene: any CameraScene, serial: String, lineTrigger: Bool, buffers: Int = 4) {
        sensor = config
        self.scene = scene
        noise = SeededRandom.derived(seed: config.seed, stream: 0xCA_3E7B)
        roi = (0, 0, config.cameraWidth, config.cameraHeight)
        let formats: Set<PixelFormat> = config.bits <= 8 ? [.mono8] : [.mono8, .mono12, .mono16]
        if config.bits <= 8 { format = .mono8 }
        let info = CameraInfo(
            sensorWidth: config.cameraWidth, sensorHeight: config.cameraHeight, bits: config.bits, formats: formats,
            lineTrigger: lineTrigger, buffers: buffers)
        self.info = info
        hello = HelloReply(
            schemaHash: CameraCommand.schemaHash, family: CameraFamily.family, model: "pnnlab-emu-camera", serial: serial,
            firmware: "emu-1.0", capabilities: HelloCapabilityBits.encode([.triggered], emulator: true),
            descriptor: info.encode())
    }

    public func sessionReset() async {}

    /// `safeState` preempts every other command (docs/protocol.md §6.1).
    public nonisolated var preemptingCommands: Set<FrameType> { [CameraCommand.safeState] }

    /// Refused values so far.
    public var violationCount: Int { Int(violations) }

    public func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        var r = PayloadReader(payload)
        do throws {
            let reply = try await dispatch(type, &r, push: push)
            try r.expectEnd()
            return reply
        } catch let refusal as ErrorReply {
            throw refusal
        } catch {
            throw ErrorReply(code: .badPayload, message: "\(CameraCommand.name(of: type)): \(error)")
        }
    }

    private func refuse(_ message: String) -> ErrorReply {
        violations &+= 1
        return ErrorReply(code: .outOfRange, message: message)
    }

    private var exposureSeconds: Double { sensor.exposure * 1e-6 }
    private var framePeriod: Double { exposureSeconds + sensor.readoutTime }

    private func dispatch(_ type: FrameType, _ r: inout PayloadReader, push: StreamPusher) async throws -> [UInt8] {
        switch type {
        case CameraCommand.info:
            return info.encode()
        case CameraCommand.getFeature:
            guard let f = CameraFeature(rawValue: try r.u8("id")) else {
                throw ErrorReply(code: .badPayload, message: "no camera feature has that id (0–8)")
            }
            return f64(value(of: f))
        case CameraCommand.setFeature:
            let id = try r.u8("id")
            let v = try r.f64("value")
            guard let f = CameraFeature(rawValue: id) else {
                throw ErrorReply(code: .badPayload, message: "no camera feature has id \(id) (0–8)")
            }
            try set(f, v)
            return f64(value(of: f))
        case CameraCommand.acquisitionStart:
            if !acquiring {
                acquiring = true
                buffer.removeAll()
                nextFreeRunStart = scene.now()
                lastPulse = scene.now()
            }
            return []
        case CameraCommand.acquisitionStop:
            acquiring = false
            buffer.removeAll()
            return []
        case CameraCommand.triggerSoftware:
            guard acquiring, triggerMode, !lineSource else {
                throw ErrorReply(
                    code: CameraCommand.notAcquiring,
                    message: "TriggerSoftware needs AcquisitionStart, TriggerMode On and TriggerSource Software")
            }
            produce(upTo: scene.now())
            let id = expose(at: scene.now() + triggerDelay)
            var w = PayloadWriter()
            w.u64(id)
            return w.bytes
        case CameraCommand.grab:
            let timeout = try r.f64("timeout")
            let transfer = try r.u16("transferID")
            guard timeout.isFinite, timeout >= 0, timeout <= 60 else { throw refuse("timeout \(timeout) s is outside 0…60 s") }
            return try await grab(timeout: timeout, transfer: transfer, push: push)
        case CameraCommand.resend:
            let id = try r.u16("transferID")
            let offset = Int(try r.u32("offset"))
            let count = Int(try r.u32("count"))
            guard let held, held.transferID == id else {
                throw ErrorReply(code: CameraCommand.noFrame, message: "transfer \(id) is not the last grabbed frame")
            }
            guard offset + count <= held.bytes.count else {
                throw ErrorReply(
                    code: .badPayload, message: "range \(offset)+\(count) lies outside the \(held.bytes.count)-byte frame")
            }
            try await pushChunks(held.bytes, transfer: id, range: offset..<(offset + count), push: push)
            return []
        case CameraCommand.flush:
            produce(upTo: scene.now())
            let done = buffer.filter { $0.start + framePeriod <= scene.now() }.count
            buffer.removeFirst(done)
            var w = PayloadWriter()
            w.u16(UInt16(min(done, 0xFFFF)))
            return w.bytes
        case CameraCommand.status:
            return status().encode()
        case CameraCommand.safeState:
            acquiring = false
            buffer.removeAll()
            triggerMode = false
            return []
        default:
            throw ErrorReply(code: .unknownCommand, message: "type \(type) is not a camera command")
        }
    }

    /// Counters and modes.
    public func status() -> CameraStatus {
        CameraStatus(
            violations: violations, frames: UInt32(truncatingIfNeeded: framesExposed), buffered: buffer.count,
            acquiring: acquiring, triggerMode: triggerMode, triggerSource: lineSource ? 1 : 0, dropped: dropped)
    }

    private func value(of f: CameraFeature) -> Double {
        switch f {
        case .exposureTime: sensor.exposure
        case .gain: sensor.gain
        case .offsetX: Double(roi.x)
        case .offsetY: Double(roi.y)
        case .width: Double(roi.width)
        case .height: Double(roi.height)
        case .pixelFormat: Double(format.rawValue)
        case .triggerMode: triggerMode ? 1 : 0
        case .triggerSource: lineSource ? 1 : 0
        case .triggerDelay: triggerDelay * 1e6
        }
    }

    private func set(_ f: CameraFeature, _ v: Double) throws {
        let range = info.range(of: f)
        guard v.isFinite, range.contains(v) else {
            throw refuse("\(f) = \(v) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        if f != .exposureTime && f != .gain && f != .triggerDelay && v != v.rounded() {
            throw refuse("\(f) = \(v) is not an integer")
        }
        if f.lockedWhileAcquiring && acquiring {
            throw ErrorReply(code: CameraCommand.locked, message: "\(f) is locked while acquiring (AcquisitionStop first)")
        }
        let n = Int(v)
        switch f {
        case .exposureTime: sensor.exposure = v
        case .gain: sensor.gain = v
        case .offsetX, .width:
            let (x, w) = f == .offsetX ? (n, roi.width) : (roi.x, n)
            guard x + w <= info.sensorWidth else {
                throw refuse("OffsetX \(x) + Width \(w) exceeds the sensor's \(info.sensorWidth) pixels")
            }
            roi.x = x
            roi.width = w
        case .offsetY, .height:
            let (y, h) = f == .offsetY ? (n, roi.height) : (roi.y, n)
            guard y + h <= info.sensorHeight else {
                throw refuse("OffsetY \(y) + Height \(h) exceeds the sensor's \(info.sensorHeight) pixels")
            }
            roi.y = y
            roi.height = h
        case .pixelFormat:
            guard let p = PixelFormat(rawValue: UInt8(n)), info.formats.contains(p) else {
                throw refuse("PixelFormat \(n) is not offered by this camera")
            }
            format = p
        case .triggerMode:
            triggerMode = n == 1
            buffer.removeAll()
            nextFreeRunStart = scene.now()
            lastPulse = scene.now()
        case .triggerSource:
            guard n == 0 || info.lineTrigger else { throw refuse("TriggerSource Line1 is not wired on this camera") }
            lineSource = n == 1
            lastPulse = scene.now()
        case .triggerDelay:
            triggerDelay = v / 1e6
        }
    }

    /// Starts an exposure at `start` into the next free buffer (or drops it).
    @discardableResult
    private func expose(at start: Double) -> UInt64 {
        let id = framesExposed
        framesExposed &+= 1
        if buffer.count < info.buffers {
            buffer.append((id, start))
        } else {
            dropped &+= 1
        }
        return id
    }

    /// Exposes every frame that started by `t`: free-running frames and line-1 pulses.
    private func produce(upTo t: Double) {
        guard acquiring else { return }
        if !triggerMode {
            let due = Int(((t - nextFreeRunStart) / framePeriod).rounded(.down)) + 1
            guard due > 0 else { return }
            let kept = max(0, min(due, info.buffers - buffer.count))
            for k in 0..<kept { expose(at: nextFreeRunStart + Double(k) * framePeriod) }
            framesExposed &+= UInt64(due - kept)
            dropped &+= UInt32(truncatingIfNeeded: due - kept)
            nextFreeRunStart += Double(due) * framePeriod
        } else if lineSource {
            while let p = scene.linePulse(after: lastPulse, upTo: t) {
                expose(at: p + triggerDelay)
                lastPulse = p
            }
        }
    }

    private func grab(timeout: Double, transfer: UInt16, push: StreamPusher) async throws -> [UInt8] {
        guard acquiring else { throw ErrorReply(code: CameraCommand.notAcquiring, message: "grab before AcquisitionStart") }
        let now = scene.now()
        produce(upTo: now)
        if buffer.isEmpty {
            // Wait for the next exposure to start, up to the timeout.
            let limit = now + timeout
            var next: Double?
            if !triggerMode {
                next = nextFreeRunStart
            } else if lineSource {
                next = scene.linePulse(after: lastPulse, upTo: limit)
            }
            guard let start = next, start <= limit else {
                scene.advance(to: limit)
                throw ErrorReply(
                    code: CameraCommand.grabTimeout, message: "no frame within \(timeout) s (\(triggerDescription))")
            }
            produce(upTo: start)
        }
        let (id, start) = buffer.removeFirst()
        scene.advance(to: start + framePeriod)
        let light = scene.intensities(start: start, duration: exposureSeconds)
        var pixels = [Double]()
        pixels.reserveCapacity(roi.width * roi.height)
        for y in roi.y..<(roi.y + roi.height) {
            let row = y * info.sensorWidth
            pixels += light[(row + roi.x)..<(row + roi.x + roi.width)]
        }
        let dn = OpticsCamera(config: sensor).digitise(pixels[...], rng: &noise)
        let bytes = format.encode(dn, sensorBits: sensor.bits)
        held = (transfer, bytes)
        grabbed.append((id, start))
        try await pushChunks(bytes, transfer: transfer, range: 0..<bytes.count, push: push)
        return CameraFrameInfo(
            frameID: id, timestamp: UInt64((start * 1e6).rounded()), offsetX: roi.x, offsetY: roi.y, width: roi.width,
            height: roi.height, format: format, total: bytes.count, crc: CRC32.checksum(bytes)
        ).encode()
    }

    private var triggerDescription: String {
        !triggerMode ? "free-running" : lineSource ? "waiting for trigger line 1" : "waiting for TriggerSoftware"
    }

    private func pushChunks(_ bytes: [UInt8], transfer: UInt16, range: Range<Int>, push: StreamPusher) async throws {
        var offset = range.lowerBound
        repeat {
            let end = min(offset + CameraCommand.chunkBytes, range.upperBound)
            await push.push(
                chunk: BulkChunk(
                    transferID: transfer, offset: UInt32(offset), total: UInt32(bytes.count), data: Array(bytes[offset..<end])))
            if Task.isCancelled { throw ErrorReply(code: .preempted, message: "stopped by the safe state") }
            offset = end
        } while offset < range.upperBound
    }

    private func f64(_ v: Double) -> [UInt8] {
        var w = PayloadWriter()
        w.f64(v)
        return w.bytes
    }
}
