import PNNCore
import Testing

@testable import PNNWire

@Suite struct COBSTests {
    /// Vectors from the Wikipedia article "Consistent Overhead Byte Stuffing".
    @Test func knownVectors() throws {
        let cases: [([UInt8], [UInt8])] = [
            ([0x00], [0x01, 0x01]),
            ([0x00, 0x00], [0x01, 0x01, 0x01]),
            ([0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]),
            ([0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]),
            ([0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]),
            ([0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]),
            (Array(1...254), [0xFF] + Array(1...254)),
            ([0x00] + Array(1...254), [0x01, 0xFF] + Array(1...254)),
            (Array(1...255), [0xFF] + Array(1...254) + [0x02, 0xFF]),
            (Array(2...255) + [0x00], [0xFF] + Array(2...255) + [0x01, 0x01]),
            (Array(3...255) + [0x00, 0x01], [0xFE] + Array(3...255) + [0x02, 0x01]),
        ]
        for (plain, encoded) in cases {
            #expect(COBS.encode(plain) == encoded, "encode \(hex(plain))")
            #expect(try COBS.decode(encoded) == plain)
        }
    }

    @Test func edgeCasesRoundTrip() throws {
        var runs: [[UInt8]] = [[], [0], [0, 0, 0, 0]]
        for n in [253, 254, 255, 256, 508, 509, 1000] {
            runs.append([UInt8](repeating: 0x42, count: n))
            runs.append([UInt8](repeating: 0, count: n))
            runs.append([UInt8](repeating: 0x42, count: n) + [0])
        }
        for plain in runs {
            let enc = COBS.encode(plain)
            #expect(!enc.contains(0))
            #expect(enc.count <= COBS.maxEncodedCount(plain.count))
            #expect(try COBS.decode(enc) == plain, "length \(plain.count)")
        }
        #expect(COBS.encode([]) == [0x01])
    }

    @Test func randomRoundTrip() throws {
        var rng = SeededRandom(seed: 1)
        for _ in 0..<2000 {
            let n = rng.int(0..<700)
            let zeroBias = rng.int(1..<5)
            let plain = (0..<n).map { _ in rng.int(0..<zeroBias) == 0 ? 0 : rng.byte() }
            let enc = COBS.encode(plain)
            #expect(!enc.contains(0))
            #expect(enc.count <= plain.count + max(1, (plain.count + 253) / 254))
            #expect(try COBS.decode(enc) == plain)
        }
    }

    @Test func malformedInputThrows() {
        #expect(throws: COBSError.empty) { try COBS.decode([]) }
        #expect(throws: COBSError.zeroByte(at: 1)) { try COBS.decode([0x03, 0x00, 0x01]) }
        #expect(throws: COBSError.truncatedBlock(at: 0, needed: 4, available: 2)) {
            try COBS.decode([0x05, 0x01, 0x02])
        }
    }
}

@Suite struct CRCTests {
    @Test func checkValues() {
        let check = Array("123456789".utf8)
        #expect(CRC16.checksum(check) == 0x29B1)
        #expect(CRC32.checksum(check) == 0xCBF4_3926)
        #expect(CRC16.checksum([]) == 0xFFFF)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test func incrementalEqualsWhole() {
        var rng = SeededRandom(seed: 2)
        let data = rng.bytes(1000)
        let split = 337
        let c16 = data.withUnsafeBufferPointer { b in
            CRC16.update(
                CRC16.update(CRC16.initial, UnsafeBufferPointer(rebasing: b[0..<split])),
                UnsafeBufferPointer(rebasing: b[split...]))
        }
        #expect(c16 == CRC16.checksum(data))
        let c32 = data.withUnsafeBufferPointer { b in
            CRC32.finalize(
                CRC32.update(
                    CRC32.update(CRC32.initial, UnsafeBufferPointer(rebasing: b[0..<split])),
                    UnsafeBufferPointer(rebasing: b[split...])))
        }
        #expect(c32 == CRC32.checksum(data))
    }
}
