import PNNLink
import PNNWire
import Synchronization

/// Camera-specific conformance checks (docs/protocol.md §16). None sends a value outside the
/// camera's declared ranges except where a refusal is the point, and those are counted.
enum CameraChecks {
    static func info(_ c: ConformanceContext) throws -> CameraInfo {
        do {
            return try CameraInfo.decode(c.hello.descriptor)
        } catch {
            throw ConformanceFailure("hello descriptor does not parse: \(error)")
        }
    }

    static func status(_ c: ConformanceContext) async throws -> CameraStatus {
        try CameraStatus.decode(try await c.client.request(CameraCommand.status, retry: .idempotent))
    }

    static func set(_ c: ConformanceContext, _ f: CameraFeature, _ v: Double) async throws -> Double {
        var w = PayloadWriter()
        w.u8(f.rawValue)
        w.f64(v)
        var r = PayloadReader(try await c.client.request(CameraCommand.setFeature, payload: w.bytes, retry: .idempotent))
        return try r.f64("value")
    }

    static func setPayload(_ f: CameraFeature, _ v: Double) -> [UInt8] {
        var w = PayloadWriter()
        w.u8(f.rawValue)
        w.f64(v)
        return w.bytes
    }

    static func grabPayload(timeout: Double, id: UInt16) -> [UInt8] {
        var w = PayloadWriter()
        w.f64(timeout)
        w.u16(id)
        return w.bytes
    }

    static let all: [ConformanceCheck] = [
        ConformanceCheck(name: "camera info", requirement: "§16.1 info repeats the hello descriptor") { c in
            let i = try info(c)
            let again = try await c.client.request(CameraCommand.info, retry: .idempotent)
            guard again == c.hello.descriptor else { throw ConformanceFailure("info differs from the hello descriptor") }
            return "\(i.sensorWidth)×\(i.sensorHeight) pixels, \(i.bits) bits, \(i.buffers) buffers, "
                + "ExposureTime \(i.exposure.lowerBound)…\(i.exposure.upperBound) µs, Gain \(i.gain.lowerBound)…\(i.gain.upperBound) dB"
        },
        ConformanceCheck(name: "camera features", requirement: "§16.3 setFeature applies, getFeature reads back") { c in
            let i = try info(c)
            _ = try await c.client.request(CameraCommand.acquisitionStop, retry: .idempotent)
            let exposure = min(max(500, i.exposure.lowerBound), i.exposure.upperBound)
            let writes: [(CameraFeature, Double)] = [
                (.exposureTime, exposure), (.gain, i.gain.lowerBound), (.offsetX, 0), (.offsetY, 0),
                (.width, Double(i.sensorWidth)), (.height, Double(i.sensorHeight)),
            ]
            for (f, v) in writes {
                let applied = try await set(c, f, v)
                var r = PayloadReader(
                    try await c.client.request(CameraCommand.getFeature, payload: [f.rawValue], retry: .idempotent))
                let read = try r.f64("value")
                guard applied == v, read == v else {
                    throw ConformanceFailure("\(f) written \(v), applied \(applied), read \(read)")
                }
            }
            return "ExposureTime, Gain, OffsetX/Y, Width, Height written and read back"
        },
        ConformanceCheck(name: "camera refusals", requirement: "§16.4 out-of-range features refused and counted") { c in
            let i = try info(c)
            let before = try await status(c).violations
            _ = try await c.expectError(
                .outOfRange, type: CameraCommand.setFeature, payload: setPayload(.exposureTime, i.exposure.upperBound * 2))
            _ = try await c.expectError(
                .outOfRange, type: CameraCommand.setFeature, payload: setPayload(.gain, i.gain.upperBound + 1))
            _ = try await c.expectError(
                .outOfRange, type: CameraCommand.setFeature, payload: setPayload(.width, Double(i.sensorWidth + 1)))
            let after = try await status(c).violations
            guard after == before &+ 3 else { throw ConformanceFailure("violations went \(before) → \(after), expected +3") }
            return "ExposureTime beyond its maximum, Gain beyond its maximum, Width beyond the sensor: refused, counted"
        },
        ConformanceCheck(name: "camera grab", requirement: "§16.2 TriggerSoftware, grab: CRC-32 chunks before the reply") { c in
            let i = try info(c)
            _ = try await c.client.request(CameraCommand.acquisitionStop, retry: .idempotent)
            _ = try await set(c, .triggerMode, 1)
            _ = try await set(c, .triggerSource, 0)
            _ = try await c.client.request(CameraCommand.acquisitionStart, retry: .idempotent)
            let got = Mutex<[BulkChunk]>([])
            await c.client.receiveBulk { chunk in got.withLock { $0.append(chunk) } }
            var r = PayloadReader(try await c.client.request(CameraCommand.triggerSoftware, retry: .deduplicated))
            let triggered = try r.u64("frameID")
            let frame = try CameraFrameInfo.decode(
                try await c.client.request(CameraCommand.grab, payload: grabPayload(timeout: 5, id: 0x6301), retry: .deduplicated)
            )
            var assembly = try BulkReassembler(transferID: 0x6301, total: frame.total)
            for chunk in got.withLock({ $0 }) where chunk.transferID == 0x6301 { try assembly.accept(chunk) }
            guard let bytes = assembly.data else {
                throw ConformanceFailure("\(assembly.receivedBytes) of \(frame.total) pixel bytes arrived before the grab reply")
            }
            guard CRC32.checksum(bytes) == frame.crc, frame.frameID == triggered else {
                throw ConformanceFailure("frame \(frame.frameID) (triggered \(triggered)): CRC-32 or id differs")
            }
            guard frame.width == i.sensorWidth, frame.height == i.sensorHeight else {
                throw ConformanceFailure("frame is \(frame.width)×\(frame.height), the ROI is the whole sensor")
            }
            return
                "frame \(frame.frameID): \(frame.total) bytes of \(frame.format) in \(got.withLock { $0.count }) chunks, "
                + "CRC-32 0x\(String(frame.crc, radix: 16)) checked"
        },
        ConformanceCheck(name: "camera resend and timeout", requirement: "§16.2 resend; §16.5 grabTimeout, locked") { c in
            let got = Mutex<[BulkChunk]>([])
            await c.client.receiveBulk { chunk in got.withLock { $0.append(chunk) } }
            var w = PayloadWriter()
            w.u16(0x6301)
            w.u32(0)
            w.u32(16)
            _ = try await c.client.request(CameraCommand.resend, payload: w.bytes, retry: .idempotent)
            guard let chunk = got.withLock({ $0.first }), chunk.offset == 0, chunk.data.count == 16 else {
                throw ConformanceFailure("resend of bytes 0..<16 did not push them back")
            }
            _ = try await c.expectError(
                CameraCommand.grabTimeout, type: CameraCommand.grab, payload: grabPayload(timeout: 0.01, id: 7))
            _ = try await c.expectError(CameraCommand.locked, type: CameraCommand.setFeature, payload: setPayload(.offsetX, 0))
            return "16 bytes pushed again; grab with no trigger times out; the ROI is locked while acquiring"
        },
        ConformanceCheck(name: "camera safe state", requirement: "§16.3 safeState stops acquisition") { c in
            _ = try await c.client.request(CameraCommand.safeState, retry: .deduplicated)
            let s = try await status(c)
            guard !s.acquiring, !s.triggerMode, s.buffered == 0 else {
                throw ConformanceFailure(
                    "after safeState: acquiring \(s.acquiring), TriggerMode \(s.triggerMode), \(s.buffered) buffered")
            }
            _ = try await c.expectError(
                CameraCommand.notAcquiring, type: CameraCommand.grab, payload: grabPayload(timeout: 0, id: 8))
            return "acquisition stopped, buffers empty, TriggerMode Off; grab refused with notAcquiring"
        },
    ]
}
