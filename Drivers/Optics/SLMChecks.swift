import PNNLink
import PNNWire

/// SLM-specific conformance checks (docs/protocol.md §15). None sends a value outside the
/// SLM's declared ranges except where a refusal is the point, and those are counted.
enum SLMChecks {
    static func info(_ c: ConformanceContext) throws -> SLMInfo {
        do {
            return try SLMInfo.decode(c.hello.descriptor)
        } catch {
            throw ConformanceFailure("hello descriptor does not parse: \(error)")
        }
    }

    static func status(_ c: ConformanceContext) async throws -> SLMStatus {
        try SLMStatus.decode(try await c.client.request(SLMCommand.status, retry: .idempotent))
    }

    /// Uploads `grey` into `slot` in chunks of `chunk` bytes, last chunk first (order must not matter).
    static func upload(_ c: ConformanceContext, _ grey: [UInt8], slot: UInt8, id: UInt16, chunk: Int) async throws -> BulkAck {
        var w = PayloadWriter()
        w.u8(slot)
        w.u16(id)
        w.u32(UInt32(grey.count))
        _ = try await c.client.request(SLMCommand.beginUpload, payload: w.bytes, retry: .idempotent)
        var last: BulkAck?
        for offset in stride(from: 0, to: grey.count, by: chunk).reversed() {
            let end = min(offset + chunk, grey.count)
            let bytes = BulkChunk(
                transferID: id, offset: UInt32(offset), total: UInt32(grey.count), data: Array(grey[offset..<end]))
            last = try BulkAck.decode(
                try await c.client.request(.bulkChunk, payload: bytes.encode(), flags: .bulk, retry: .idempotent))
        }
        guard let last else { throw ConformanceFailure("an empty pattern cannot be uploaded") }
        return last
    }

    static let all: [ConformanceCheck] = [
        ConformanceCheck(name: "slm info", requirement: "§15.1 info repeats the hello descriptor") { c in
            let i = try info(c)
            let again = try await c.client.request(SLMCommand.info, retry: .idempotent)
            guard again == c.hello.descriptor else { throw ConformanceFailure("info differs from the hello descriptor") }
            return
                "\(i.width)×\(i.height) macro-pixels of \(i.macroPixel)² pixels, \(i.bits) bits, \(i.slots) slots, \(i.refreshHz) Hz"
        },
        ConformanceCheck(name: "slm upload and show", requirement: "§15.3 chunks in any order; shown CRC-32") { c in
            let i = try info(c)
            let grey = (0..<i.patternBytes).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let ack = try await upload(c, grey, slot: 0, id: 0x5A01, chunk: max(1, i.patternBytes / 3))
            guard ack.complete, ack.received == UInt32(grey.count) else {
                throw ConformanceFailure("after every chunk the SLM holds \(ack.received) of \(grey.count) bytes")
            }
            _ = try await c.client.request(SLMCommand.showSlot, payload: [0], retry: .deduplicated)
            var w = PayloadWriter()
            w.f64(5)
            let done = try await c.client.request(SLMCommand.waitComplete, payload: w.bytes, retry: .idempotent, timeout: 7)
            guard done.first == 1 else { throw ConformanceFailure("the pattern did not settle within 5 s") }
            let s = try await status(c)
            guard s.crc == CRC32.checksum(grey), s.slot == 0, !s.blank else {
                throw ConformanceFailure("status after showing slot 0: slot \(s.slot), CRC-32 differs or blank")
            }
            return "\(grey.count) bytes in 3 chunks (last first), shown, settled, CRC-32 0x\(String(s.crc, radix: 16))"
        },
        ConformanceCheck(name: "slm refusals", requirement: "§15.4 out-of-range values refused and counted") { c in
            let i = try info(c)
            let before = try await status(c).violations
            var lut = PayloadWriter()
            lut.f64s([Double](repeating: 5 * .pi, count: 256))
            _ = try await c.expectError(.outOfRange, type: SLMCommand.loadLUT, payload: lut.bytes)
            var big = PayloadWriter()
            big.u8(0)
            big.u16(7)
            big.u32(UInt32(i.patternBytes + 1))
            _ = try await c.expectError(.outOfRange, type: SLMCommand.beginUpload, payload: big.bytes)
            _ = try await c.expectError(.outOfRange, type: SLMCommand.showSlot, payload: [UInt8(min(i.slots, 255))])
            let after = try await status(c).violations
            guard after == before &+ 3 else { throw ConformanceFailure("violations went \(before) → \(after), expected +3") }
            return "LUT beyond 4π, oversized pattern, missing slot: refused with outOfRange, counted"
        },
        ConformanceCheck(name: "slm empty slot", requirement: "§15.5 slotEmpty") { c in
            let i = try info(c)
            guard i.slots > 1 else { return "one slot only: skipped" }
            let slot = UInt8(i.slots - 1)
            var w = PayloadWriter()
            w.u8(slot)
            w.u16(0x5A02)
            w.u32(UInt32(i.patternBytes))
            _ = try await c.client.request(SLMCommand.beginUpload, payload: w.bytes, retry: .idempotent)
            _ = try await c.expectError(SLMCommand.slotEmpty, type: SLMCommand.showSlot, payload: [slot])
            return "a slot whose upload is incomplete is refused with slotEmpty"
        },
        ConformanceCheck(name: "slm safe state", requirement: "§15.3 safeState shows a blank pattern") { c in
            _ = try await c.client.request(SLMCommand.safeState, retry: .deduplicated)
            let s = try await status(c)
            guard s.blank, s.slot == 0xFF else { throw ConformanceFailure("after safeState the SLM is not blank") }
            return "blank pattern shown"
        },
    ]
}
