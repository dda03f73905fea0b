/// Fuzzing entry point (libFuzzer's `LLVMFuzzerTestOneInput` calls it from
/// `Fuzz/PNNWireFuzz/main.swift`, built by `make fuzz`). Traps (`precondition`) on any
/// violated invariant:
///
/// 1. `data` fed to a `FrameDecoder` in input-dependent chunk sizes and in one piece gives
///    the same frames and statistics; every byte and every frame is accounted for.
/// 2. An independent oracle (own COBS decoder, bitwise CRC-16/CRC-32, the §5 rejection
///    order) accepts exactly the frames the decoder delivers, and classifies every rejected
///    candidate the same way: no frame whose CRC fails is ever delivered, none is lost.
/// 3. Every delivered frame re-encodes to wire bytes (no 0x00 before the delimiter, within
///    the COBS overhead bound) that decode back to the same frame.
/// 4. The same checks on a second stream synthesised from `data` with correct CRCs (so the
///    fuzzer reaches past the CRC), then every payload parser round-trips, and a
///    `BulkReassembler` matches a byte-level shadow model: it never reports completion with
///    bytes missing, `data`/`missing`/`ack` agree with the model, refusals are the right ones.
public func pnnwireFuzzOneInput(_ data: UnsafeRawBufferPointer) {
    let bytes = [UInt8](data)
    let delivered = FuzzChecks.decoderInvariants(bytes, split: Int(bytes.first ?? 0))
    FuzzChecks.cobsRoundTrip(bytes)

    // Synthesised stream: records `len u16 | body[len]` become frames with valid CRCs.
    var stream: [UInt8] = []
    var expected: [[UInt8]] = []
    var i = 1
    while i + 2 <= bytes.count {
        let len = min(Int(bytes[i]) | Int(bytes[i + 1]) << 8, bytes.count - i - 2)
        var raw = Array(bytes[(i + 2)..<(i + 2 + len)])
        i += 2 + len
        if raw.count >= Frame.headerSize { raw[0] = PNNWireVersion.protocolVersion }
        let bulk = raw.count > 4 && raw[4] & 0x01 != 0
        if bulk {
            let c = FuzzChecks.referenceCRC32(raw)
            for s in stride(from: 0, to: 32, by: 8) { raw.append(UInt8(truncatingIfNeeded: c >> s)) }
        } else {
            let c = FuzzChecks.referenceCRC16(raw)
            raw.append(UInt8(truncatingIfNeeded: c))
            raw.append(UInt8(truncatingIfNeeded: c >> 8))
        }
        if FuzzChecks.oracleVerdict(raw, limits: .standard) == nil { expected.append(raw) }
        raw.withUnsafeBufferPointer { COBS.encode($0, appendingTo: &stream) }
        stream.append(0)
    }
    let synthesised = FuzzChecks.decoderInvariants(stream, split: bytes.count)
    precondition(synthesised.map(\.rawBytes) == expected, "a valid synthesised frame was not delivered")

    var model = FuzzChecks.BulkModel()
    var streams = StreamTracker()
    for frame in delivered + synthesised {
        FuzzChecks.payloadRoundTrips(frame.payload)
        if let chunk = try? BulkChunk.decode(frame.payload) { model.accept(chunk) }
        if frame.flags.contains(.stream) { streams.record(frame) }
    }
    // Raw candidates of the input as payloads too: the parsers need no valid CRC.
    for candidate in bytes.split(separator: 0, omittingEmptySubsequences: true) {
        let payload = Array(candidate)
        FuzzChecks.payloadRoundTrips(payload)
        if let chunk = try? BulkChunk.decode(payload) { model.accept(chunk) }
    }
    let perStream = streams.streams.values.reduce(into: StreamTracker.Counters()) {
        $0.received += $1.received
        $0.lost += $1.lost
        $0.outOfOrder += $1.outOfOrder
    }
    precondition(perStream == streams.total, "stream totals differ from the per-stream counters")
}

/// The checks behind `pnnwireFuzzOneInput`, written independently of the code they test.
enum FuzzChecks {
    /// Rejection classes of §5, in the order a receiver applies them.
    enum Verdict: Equatable {
        case cobs, oversize, malformed, crc, version(UInt8)
    }

    /// CRC-16/CCITT-FALSE, bit by bit.
    static func referenceCRC16(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for b in bytes {
            crc ^= UInt16(b) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    /// CRC-32 (IEEE, reflected), bit by bit.
    static func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// COBS decoding as in §1 (nil: invalid).
    static func referenceCOBSDecode(_ encoded: [UInt8]) -> [UInt8]? {
        if encoded.isEmpty { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < encoded.count {
            let code = Int(encoded[i])
            if code == 0 || i + code > encoded.count { return nil }
            for b in encoded[(i + 1)..<(i + code)] {
                if b == 0 { return nil }
                out.append(b)
            }
            i += code
            if code != 0xFF && i < encoded.count { out.append(0) }
        }
        return out
    }

    /// Why the oracle rejects a decoded frame, or nil when it is valid.
    static func oracleVerdict(_ raw: [UInt8], limits: FrameLimits) -> Verdict? {
        if raw.count < 7 { return .malformed }
        let bulk = raw[4] & 0x01 != 0
        let crcSize = bulk ? 4 : 2
        if raw.count < 5 + crcSize { return .malformed }
        if raw.count > (bulk ? limits.maxBulkFrame : limits.maxControlFrame) { return .oversize }
        let body = Array(raw[0..<(raw.count - crcSize)])
        let trailer = raw[(raw.count - crcSize)...].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let computed = bulk ? referenceCRC32(body) : UInt32(referenceCRC16(body))
        if trailer != computed { return .crc }
        if raw[0] != 1 { return .version(raw[0]) }
        if raw[4] & 0xE0 != 0 { return .malformed }
        return nil
    }

    /// Feeds `bytes` chunked and whole, plus a final delimiter; checks both against each
    /// other and against the oracle; returns the delivered frames.
    static func decoderInvariants(_ bytes: [UInt8], split seed: Int) -> [Frame] {
        var chunked = FrameDecoder()
        var delivered: [Frame] = []
        let split = seed % 17 + 1
        var offset = 0
        bytes.withUnsafeBytes { data in
            while offset < data.count {
                let n = min(split + offset % 7, data.count - offset)
                chunked.feed(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + n)])) { delivered.append($0) }
                offset += n
            }
        }
        precondition(chunked.statistics.framesDelivered == delivered.count, "delivered count mismatch")
        precondition(chunked.statistics.bytesReceived == bytes.count, "byte count mismatch")
        let capacity = COBS.maxEncodedCount(max(chunked.limits.maxBulkFrame, chunked.limits.maxControlFrame))
        let trailing = bytes.count - 1 - (bytes.lastIndex(of: 0) ?? -1)
        precondition(chunked.pendingByteCount <= min(trailing, capacity), "pending bytes exceed the partial frame")
        if trailing <= capacity { precondition(chunked.pendingByteCount == trailing, "partial frame bytes lost") }
        delivered += chunked.feed([0])
        precondition(chunked.pendingByteCount == 0, "bytes pending after a delimiter")

        var whole = FrameDecoder()
        let wholeFrames = whole.feed(bytes + [0])
        precondition(wholeFrames == delivered, "frames depend on how the bytes were chunked")
        precondition(whole.statistics == chunked.statistics, "statistics depend on how the bytes were chunked")

        // The oracle, candidate by candidate.
        var expected = FrameDecoder.Statistics()
        expected.bytesReceived = bytes.count + 1
        var accepted: [[UInt8]] = []
        for candidate in bytes.split(separator: 0, omittingEmptySubsequences: true) {
            let encoded = Array(candidate)
            let verdict: Verdict?
            var raw: [UInt8] = []
            if encoded.count > capacity {
                verdict = .oversize
            } else if let decoded = referenceCOBSDecode(encoded) {
                raw = decoded
                verdict = oracleVerdict(decoded, limits: chunked.limits)
            } else {
                verdict = .cobs
            }
            guard let verdict else {
                accepted.append(raw)
                expected.framesDelivered += 1
                continue
            }
            expected.bytesDiscarded += encoded.count
            let looksLikeFrame = encoded.count >= 2 && encoded[0] >= 2 && encoded[1] == PNNWireVersion.protocolVersion
            switch verdict {
            case .cobs:
                expected.cobsErrors += 1
                if looksLikeFrame { expected.damagedFrames += 1 }
            case .oversize: expected.oversize += 1
            case .malformed: expected.malformed += 1
            case .crc:
                expected.crcErrors += 1
                if looksLikeFrame { expected.damagedFrames += 1 }
            case .version(let v):
                expected.versionErrors += 1
                expected.lastForeignVersion = v
            }
        }
        precondition(delivered.map(\.rawBytes) == accepted, "decoder and oracle disagree on the valid frames")
        precondition(chunked.statistics == expected, "decoder statistics differ from the oracle's")

        for frame in delivered {
            precondition(frame.flags.rawValue & FrameFlags.reservedMask == 0, "reserved flags delivered")
            guard let wire = try? frame.encoded(limits: chunked.limits) else {
                preconditionFailure("delivered frame does not re-encode")
            }
            precondition(wire.last == 0 && !wire.dropLast().contains(0), "re-encoded frame has a stray 0x00")
            precondition(wire.count <= COBS.maxEncodedCount(frame.rawBytes.count) + 1, "COBS overhead exceeded")
            guard let back = try? Frame.decode(wire: wire, limits: chunked.limits) else {
                preconditionFailure("re-encoded frame fails to decode")
            }
            precondition(back == frame, "re-encoded frame differs")
        }
        return delivered
    }

    /// COBS on arbitrary bytes: no 0x00 out, overhead bound, exact inverse; and the module's
    /// decoder agrees with the reference decoder on every candidate of the input.
    static func cobsRoundTrip(_ bytes: [UInt8]) {
        let encoded = COBS.encode(bytes)
        precondition(!encoded.contains(0), "COBS output contains 0x00")
        precondition(encoded.count <= COBS.maxEncodedCount(bytes.count), "COBS overhead exceeded")
        precondition((try? COBS.decode(encoded)) == bytes, "COBS does not round-trip")
        precondition(referenceCOBSDecode(encoded) == bytes, "COBS output differs from the specification")
        for candidate in bytes.split(separator: 0, omittingEmptySubsequences: true).prefix(64) {
            let c = Array(candidate)
            precondition((try? COBS.decode(c)) == referenceCOBSDecode(c), "COBS decoders disagree")
        }
        _ = try? Frame.decode(wire: bytes)
        _ = try? Frame.decode(raw: bytes)
    }

    /// Every payload parser: never traps, and what parses re-encodes to the same bytes.
    static func payloadRoundTrips(_ p: [UInt8]) {
        if let v = try? HelloRequest.decode(p) { precondition((try? v.encode()) == p, "hello request round trip") }
        if let v = try? HelloReply.decode(p) { precondition((try? v.encode()) == p, "hello reply round trip") }
        if let v = try? ErrorReply.decode(p) { precondition(v.encode() == p, "error reply round trip") }
        if let v = try? BulkChunk.decode(p) {
            precondition(v.encode() == p, "bulk chunk round trip")
            precondition((try? BulkChunk.decode(v.frame(seq: 0).payload)) == v, "bulk chunk frame")
        }
        if let v = try? BulkAck.decode(p) {
            precondition(p.count == 7, "bulk ack of the wrong length accepted")
            if p[6] <= 1 { precondition(v.encode() == p, "bulk ack round trip") }
        }
        if let v = try? StreamData.decode(p) { precondition([v.streamID] + v.data == p, "stream data round trip") }
    }

    /// A `BulkReassembler` beside a byte-level model of it (one transfer, started by the
    /// first chunk whose total is small enough).
    struct BulkModel {
        static let maxTotal = 1 << 16
        var reassembler: BulkReassembler?
        var data: [UInt8] = []
        var held: [Bool] = []
        var duplicates = 0

        mutating func accept(_ chunk: BulkChunk) {
            guard var r = reassembler else {
                do throws(BulkError) {
                    reassembler = try BulkReassembler(
                        transferID: chunk.transferID, total: Int(chunk.total), maxTotal: Self.maxTotal)
                } catch {
                    precondition(
                        Int(chunk.total) > Self.maxTotal
                            && error == .tooLarge(total: Int(chunk.total), limit: Self.maxTotal),
                        "wrong refusal of a transfer")
                    return
                }
                data = [UInt8](repeating: 0, count: Int(chunk.total))
                held = [Bool](repeating: false, count: Int(chunk.total))
                check()
                accept(chunk)
                return
            }
            let start = Int(chunk.offset)
            let end = start + chunk.data.count
            let expectedError: BulkError? =
                chunk.transferID != r.transferID
                ? .wrongTransfer(expected: r.transferID, got: chunk.transferID)
                : Int(chunk.total) != r.total
                    ? .totalMismatch(expected: r.total, got: Int(chunk.total))
                    : end > r.total ? .outOfBounds(offset: start, count: chunk.data.count, total: r.total) : nil
            let complete: Bool
            do throws(BulkError) { complete = try r.accept(chunk) } catch {
                precondition(error == expectedError, "bulk chunk refused for the wrong reason")
                reassembler = r
                check()
                return
            }
            precondition(expectedError == nil, "bulk chunk accepted that must be refused")
            if !chunk.data.isEmpty {
                if held[start..<end].allSatisfy({ $0 }) {
                    duplicates += 1
                } else {
                    data.replaceSubrange(start..<end, with: chunk.data)
                    for k in start..<end { held[k] = true }
                }
            }
            reassembler = r
            precondition(complete == !held.contains(false), "accept reports the wrong completion")
            check()
        }

        func check() {
            guard let r = reassembler else { return }
            let count = held.reduce(0) { $0 + ($1 ? 1 : 0) }
            precondition(r.receivedBytes == count, "received byte count differs from the model")
            precondition(r.isComplete == (count == r.total), "completion reported with bytes missing")
            precondition(r.data == (count == r.total ? data : nil), "assembled bytes differ from the model")
            precondition(r.duplicates == duplicates, "duplicate count differs from the model")
            var gaps: [Range<Int>] = []
            var k = 0
            while k < held.count {
                if held[k] {
                    k += 1
                    continue
                }
                let s = k
                while k < held.count && !held[k] { k += 1 }
                gaps.append(s..<k)
            }
            precondition(r.missing == gaps, "missing ranges differ from the model")
            precondition(
                r.ack == BulkAck(transferID: r.transferID, received: UInt32(count), complete: count == r.total),
                "ack differs from the model")
        }
    }
}
