import PNNCore
import Testing

@testable import PNNWire

/// The slicing-by-8 CRCs, the memchr COBS and the one-buffer frame encoder against
/// bit-by-bit and byte-by-byte references written from docs/protocol.md §1 and §5.
@Suite struct FastCodecTests {
    /// CRC-16/CCITT-FALSE one bit at a time (no tables).
    static func bitwiseCRC16(_ bytes: ArraySlice<UInt8>, _ start: UInt16 = 0xFFFF) -> UInt16 {
        var crc = start
        for b in bytes {
            crc ^= UInt16(b) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }

    /// CRC-32 (reflected 0xEDB88320) one bit at a time, final XOR applied.
    static func bitwiseCRC32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// COBS as the reference code of §1: one byte at a time.
    static func referenceCOBS(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0]
        var codeIndex = 0
        var code: UInt8 = 1
        for (i, b) in input.enumerated() {
            if b == 0 {
                out[codeIndex] = code
                codeIndex = out.count
                out.append(0)
                code = 1
                continue
            }
            out.append(b)
            code += 1
            if code == 0xFF {
                out[codeIndex] = code
                if i == input.count - 1 { return out }
                codeIndex = out.count
                out.append(0)
                code = 1
            }
        }
        out[codeIndex] = code
        return out
    }

    @Test func slicingCRCsMatchBitwiseAtEveryLengthAndAlignment() {
        var rng = SeededRandom(seed: 42)
        let data = rng.bytes(600)
        for start in 0..<9 {
            for length in Array(0..<40) + [63, 64, 65, 255, 256, 257, 511, 590] where start + length <= data.count {
                let slice = data[start..<(start + length)]
                let c16 = Array(slice).withUnsafeBufferPointer { CRC16.update(CRC16.initial, $0) }
                #expect(c16 == Self.bitwiseCRC16(slice), "CRC-16 at offset \(start), length \(length)")
                #expect(CRC32.checksum(Array(slice)) == Self.bitwiseCRC32(slice), "CRC-32 at \(start), \(length)")
            }
        }
        // A running CRC split at every point of a 20-byte message equals the whole.
        let msg = Array(data[0..<20])
        for split in 0...20 {
            let a = Array(msg[0..<split]).withUnsafeBufferPointer { CRC16.update(CRC16.initial, $0) }
            let b = Array(msg[split...]).withUnsafeBufferPointer { CRC16.update(a, $0) }
            #expect(b == Self.bitwiseCRC16(msg[...]))
        }
    }

    @Test func memchrCOBSMatchesByteAtATimeReference() throws {
        var rng = SeededRandom(seed: 7)
        var inputs: [[UInt8]] = [[], [0], [1], Array(repeating: 0, count: 600)]
        for n in [1, 2, 253, 254, 255, 256, 507, 508, 509, 762, 1000, 4096] {
            inputs.append([UInt8](repeating: 0x42, count: n))
            inputs.append([UInt8](repeating: 0x42, count: n) + [0])
            inputs.append([0] + [UInt8](repeating: 0x42, count: n))
            // Sparse and dense zeros.
            inputs.append((0..<n).map { _ in rng.next() % 300 == 0 ? 0 : rng.byte() | 1 })
            inputs.append((0..<n).map { _ in rng.next() % 3 == 0 ? 0 : rng.byte() })
        }
        for plain in inputs {
            let encoded = COBS.encode(plain)
            #expect(encoded == Self.referenceCOBS(plain), "length \(plain.count)")
            #expect(try COBS.decode(encoded) == plain)
            var appended: [UInt8] = [0xEE]
            plain.withUnsafeBufferPointer { COBS.encode($0, appendingTo: &appended) }
            #expect(appended == [0xEE] + encoded)
        }
    }

    @Test func cobsEncodesInPlaceTowardsTheStartOfItsBuffer() {
        var rng = SeededRandom(seed: 3)
        for n in [0, 1, 10, 253, 254, 255, 508, 1000, 4000] {
            let plain = (0..<n).map { _ in rng.next() % 50 == 0 ? 0 : rng.byte() }
            let slack = COBS.maxEncodedCount(n) - n
            var buffer = [UInt8](repeating: 0xAA, count: slack) + plain
            let written = buffer.withUnsafeMutableBufferPointer { b in
                COBS.encode(b.baseAddress! + slack, count: n, to: b.baseAddress!)
            }
            #expect(Array(buffer[0..<written]) == Self.referenceCOBS(plain), "length \(n)")
        }
    }

    @Test func decodeReportsTheFirstZeroInABlock() {
        #expect(throws: COBSError.zeroByte(at: 3)) { try COBS.decode([0x05, 0x01, 0x02, 0x00, 0x03]) }
        #expect(throws: COBSError.truncatedBlock(at: 2, needed: 3, available: 1)) {
            try COBS.decode([0x02, 0x01, 0x04, 0x07])
        }
    }

    @Test func oneBufferEncodingEqualsRawBytesThenCOBS() throws {
        var rng = SeededRandom(seed: 9)
        var reused: [UInt8] = []
        var all: [UInt8] = []
        var frames: [Frame] = []
        for k in 0..<300 {
            var frame = rng.frame()
            if k % 50 == 0 { frame.payload = rng.bytes(3_973) }
            frames.append(frame)
            let expected = Self.referenceCOBS(frame.rawBytes) + [0]
            #expect(try frame.encoded() == expected)
            reused.removeAll(keepingCapacity: true)
            try frame.encode(appendingTo: &reused)
            #expect(reused == expected)
            try frame.encode(appendingTo: &all)
        }
        // Frames collected in one buffer decode back, in order, whatever the read sizes.
        var decoder = FrameDecoder()
        var got: [Frame] = []
        var at = 0
        while at < all.count {
            let n = min(all.count - at, rng.int(1..<700))
            got += decoder.feed(Array(all[at..<(at + n)]))
            at += n
        }
        #expect(got == frames)
        #expect(decoder.statistics.framesRejected == 0)
    }

    @Test func refusedFramesLeaveTheBufferUnchanged() {
        var out: [UInt8] = [1, 2, 3]
        let big = Frame(type: .ping, seq: 1, payload: [UInt8](repeating: 7, count: 5_000))
        #expect(throws: FrameError.oversize(length: 5_007, limit: 4_096)) { try big.encode(appendingTo: &out) }
        let reserved = Frame(type: .ping, seq: 1, flags: FrameFlags(rawValue: 0x20))
        #expect(throws: FrameError.reservedFlags(0x20)) { try reserved.encode(appendingTo: &out) }
        #expect(out == [1, 2, 3])
    }

    @Test func deviceWireBytesEqualRawBytesThenCOBSForAnyVersion() {
        var rng = SeededRandom(seed: 12)
        for k in 0..<200 {
            var frame = rng.frame()
            if k % 40 == 0 { frame.payload = rng.bytes(3_973) }
            for version: UInt8 in [PNNWireVersion.protocolVersion, 2, 0xFF] {
                #expect(frame.wireBytes(version: version) == Self.referenceCOBS(frame.rawBytes(version: version)) + [0])
            }
        }
    }
}
