import Foundation
import PNNCore
import PNNWire

/// Micro-benchmarks of the wire codec (issue 11, point 2): CRC-16/CRC-32, COBS and whole
/// frames, each against the byte-at-a-time implementation PNNWire used before (kept below as
/// `ByteAtATime`) in the same run. Throughput over the payloads the link carries: a ~4 kB
/// stream frame and a 64 KiB bulk chunk.
func wireBenchmarks(into report: inout BenchReport, quick: Bool) throws {
    var rng = SeededRandom(seed: 11)
    let small = (0..<4_096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let large = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let reps = quick ? 200 : 2_000

    func rate(_ bytes: Int, _ seconds: Double) -> Double { Double(bytes) * Double(reps) / seconds / 1e6 }

    // CRC-16 over a 4 kB control frame, CRC-32 over a 64 KiB bulk chunk.
    var sink16: UInt16 = 0
    let crc16 = bestTime {
        for _ in 0..<reps { sink16 ^= small.withUnsafeBufferPointer { CRC16.update(CRC16.initial, $0) } }
    }
    let crc16Old = bestTime { for _ in 0..<reps { sink16 ^= ByteAtATime.crc16(small) } }
    var sink32: UInt32 = 0
    let crc32 = bestTime {
        for _ in 0..<(reps / 16) { sink32 ^= large.withUnsafeBufferPointer { CRC32.update(CRC32.initial, $0) } }
    }
    let crc32Old = bestTime { for _ in 0..<(reps / 16) { sink32 ^= ByteAtATime.crc32(large) } }
    guard ByteAtATime.crc16(small) == CRC16.checksum(small), ByteAtATime.crc32(large) == CRC32.checksum(large) ^ ~0
    else { throw BenchFailure("slicing-by-8 CRC disagrees with the byte-at-a-time CRC") }
    report.add(
        "wire: CRC-16/CCITT-FALSE over 4 KiB, slicing-by-8", rate(small.count, crc16), unit: "MB/s",
        baseline: rate(small.count, crc16Old), baselineName: "byte-at-a-time table")
    report.add(
        "wire: CRC-32 over 64 KiB, slicing-by-8", rate(large.count, crc32) / 16, unit: "MB/s",
        baseline: rate(large.count, crc32Old) / 16, baselineName: "byte-at-a-time table")

    // COBS of 4 KiB of random bytes (a 0x00 every 256 bytes on average, like f64 samples).
    var sinkCount = 0
    let enc = bestTime { for _ in 0..<reps { sinkCount &+= COBS.encode(small).count } }
    let encOld = bestTime { for _ in 0..<reps { sinkCount &+= ByteAtATime.cobsEncode(small).count } }
    let encoded = COBS.encode(small)
    guard encoded == ByteAtATime.cobsEncode(small) else { throw BenchFailure("COBS encoders disagree") }
    var scratch = encoded
    let dec = try bestTime {
        for _ in 0..<reps {
            scratch.replaceSubrange(0..<scratch.count, with: encoded)
            sinkCount &+= try scratch.withUnsafeMutableBufferPointer { (b) throws(COBSError) in try COBS.decodeInPlace(b) }
        }
    }
    let decOld = try bestTime {
        for _ in 0..<reps {
            scratch.replaceSubrange(0..<scratch.count, with: encoded)
            sinkCount &+= try scratch.withUnsafeMutableBufferPointer { (b) throws(COBSError) in try ByteAtATime.cobsDecode(b) }
        }
    }
    report.add(
        "wire: COBS encode 4 KiB (memchr runs)", rate(small.count, enc), unit: "MB/s",
        baseline: rate(small.count, encOld), baselineName: "byte-at-a-time into a growing array")
    report.add(
        "wire: COBS decode 4 KiB in place (memchr + memmove)", rate(small.count, dec), unit: "MB/s",
        baseline: rate(small.count, decOld), baselineName: "byte-at-a-time")

    // Whole stream frames as the emulator sends them (3 973 B payload) and as the host receives them.
    let payload = Array(small[0..<3_973])
    let frame = Frame(type: .streamData, seq: 7, flags: .stream, payload: payload)
    let fEnc = try bestTime { for _ in 0..<reps { sinkCount &+= try frame.encoded().count } }
    let fEncOld = bestTime { for _ in 0..<reps { sinkCount &+= ByteAtATime.frameWire(frame).count } }
    var reused: [UInt8] = []
    let fEncReused = try bestTime {
        for _ in 0..<reps {
            reused.removeAll(keepingCapacity: true)
            try frame.encode(appendingTo: &reused)
            sinkCount &+= reused.count
        }
    }
    let wire = try frame.encoded()
    guard wire == ByteAtATime.frameWire(frame), reused == wire else { throw BenchFailure("frame encoders disagree") }
    var decoder = FrameDecoder()
    var delivered = 0
    let fDec = bestTime {
        for _ in 0..<reps { wire.withUnsafeBytes { decoder.feed($0) { delivered += $0.payload.count } } }
    }
    var oldDecoder = ByteAtATime.Decoder()
    let fDecOld = bestTime {
        for _ in 0..<reps { wire.withUnsafeBytes { oldDecoder.feed($0) { delivered += $0.payload.count } } }
    }
    if delivered != 6 * reps * payload.count { throw BenchFailure("a frame decoder lost frames in the wire benchmark") }
    report.add(
        "wire: encode a stream frame (3 973 B payload), one allocation", fEnc / Double(reps) * 1e6, unit: "µs",
        baseline: fEncOld / Double(reps) * 1e6, baselineName: "rawBytes + byte-at-a-time CRC/COBS")
    report.add(
        "wire: encode the same frame into a reused buffer", fEncReused / Double(reps) * 1e6, unit: "µs",
        baseline: fEncOld / Double(reps) * 1e6, baselineName: "rawBytes + byte-at-a-time CRC/COBS")
    report.add(
        "wire: FrameDecoder, one stream frame (memchr + memcpy + in-place COBS + CRC)", fDec / Double(reps) * 1e6,
        unit: "µs", baseline: fDecOld / Double(reps) * 1e6, baselineName: "byte-at-a-time decoder")
    if sink16 == 1 && sink32 == 1 && sinkCount == 1 { print("") }  // keeps the results alive
}

/// PNNWire's codec as it was before slicing-by-8 and memchr (commit a45d61b): the same-run
/// baseline of the wire benchmarks.
enum ByteAtATime {
    static let table16: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
    static let table32: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    static func crc16(_ crc: UInt16, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var crc = crc
        table16.withUnsafeBufferPointer { t in
            for b in bytes { crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ b)] }
        }
        return crc
    }
    static func crc16(_ bytes: [UInt8]) -> UInt16 { bytes.withUnsafeBufferPointer { crc16(0xFFFF, $0) } }

    static func crc32(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = crc
        table32.withUnsafeBufferPointer { t in
            for b in bytes { crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ b)] }
        }
        return crc
    }
    /// The running register (no final XOR), as `CRC32.update`.
    static func crc32(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBufferPointer { crc32(0xFFFF_FFFF, $0) } }

    static func cobsEncode(_ input: UnsafeBufferPointer<UInt8>, appendingTo out: inout [UInt8]) {
        let n = input.count
        out.reserveCapacity(out.count + COBS.maxEncodedCount(n) + 1)
        var codeIndex = out.count
        out.append(0)
        var code: UInt8 = 1
        var i = 0
        while i < n {
            let b = input[i]
            i += 1
            if b == 0 {
                out[codeIndex] = code
                codeIndex = out.count
                out.append(0)
                code = 1
                continue
            }
            out.append(b)
            code &+= 1
            if code == 0xFF {
                out[codeIndex] = code
                if i == n { return }
                codeIndex = out.count
                out.append(0)
                code = 1
            }
        }
        out[codeIndex] = code
    }
    static func cobsEncode(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        input.withUnsafeBufferPointer { cobsEncode($0, appendingTo: &out) }
        return out
    }

    static func cobsDecode(_ buf: UnsafeMutableBufferPointer<UInt8>) throws(COBSError) -> Int {
        let n = buf.count
        if n == 0 { throw .empty }
        var r = 0
        var w = 0
        while r < n {
            let code = Int(buf[r])
            if code == 0 { throw .zeroByte(at: r) }
            let blockStart = r
            r += 1
            let len = code - 1
            if r + len > n { throw .truncatedBlock(at: blockStart, needed: len, available: n - r) }
            let end = r + len
            while r < end {
                let b = buf[r]
                if b == 0 { throw .zeroByte(at: r) }
                buf[w] = b
                w += 1
                r += 1
            }
            if code != 0xFF && r < n {
                buf[w] = 0
                w += 1
            }
        }
        return w
    }

    /// rawBytes (appending, table CRC) then COBS into a fresh array, then the delimiter.
    static func frameWire(_ f: Frame) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(Frame.headerSize + f.payload.count + 4)
        raw.append(1)
        raw.append(f.type.rawValue)
        raw.append(UInt8(truncatingIfNeeded: f.seq))
        raw.append(UInt8(truncatingIfNeeded: f.seq >> 8))
        raw.append(f.flags.rawValue)
        raw.append(contentsOf: f.payload)
        if f.flags.contains(.bulk) {
            let crc = ~crc32(raw)
            for s in stride(from: 0, to: 32, by: 8) { raw.append(UInt8(truncatingIfNeeded: crc >> s)) }
        } else {
            let crc = crc16(raw)
            raw.append(UInt8(truncatingIfNeeded: crc))
            raw.append(UInt8(truncatingIfNeeded: crc >> 8))
        }
        var out: [UInt8] = []
        raw.withUnsafeBufferPointer { cobsEncode($0, appendingTo: &out) }
        out.append(0)
        return out
    }

    /// The old FrameDecoder loop: byte scan for 0x00, byte copy, byte COBS, byte CRC.
    struct Decoder {
        var buffer = [UInt8](repeating: 0, count: COBS.maxEncodedCount(65_555))
        var count = 0

        mutating func feed(_ bytes: UnsafeRawBufferPointer, _ deliver: (Frame) -> Void) {
            let input = bytes.bindMemory(to: UInt8.self)
            var start = 0
            let n = input.count
            while start < n {
                var end = start
                while end < n && input[end] != 0 { end += 1 }
                let segment = end - start
                buffer.withUnsafeMutableBufferPointer { b in
                    for i in 0..<segment { b[count + i] = input[start + i] }
                }
                count += segment
                if end < n {
                    let encoded = count
                    count = 0
                    let frame: Frame? = buffer.withUnsafeMutableBufferPointer { b in
                        let c = UnsafeMutableBufferPointer(rebasing: b[0..<encoded])
                        guard let m = try? cobsDecode(c), m >= 7 else { return nil }
                        let raw = UnsafeBufferPointer(rebasing: c[0..<m])
                        let bulk = raw[4] & 1 != 0
                        let crcSize = bulk ? 4 : 2
                        let body = UnsafeBufferPointer(rebasing: raw[0..<(m - crcSize)])
                        if bulk {
                            let crc = ~crc32(0xFFFF_FFFF, body)
                            let got =
                                UInt32(raw[m - 4]) | UInt32(raw[m - 3]) << 8 | UInt32(raw[m - 2]) << 16
                                | UInt32(raw[m - 1]) << 24
                            if crc != got { return nil }
                        } else if crc16(0xFFFF, body) != UInt16(raw[m - 2]) | UInt16(raw[m - 1]) << 8 {
                            return nil
                        }
                        return Frame(
                            type: FrameType(rawValue: raw[1]), seq: UInt16(raw[2]) | UInt16(raw[3]) << 8,
                            flags: FrameFlags(rawValue: raw[4]),
                            payload: Array(UnsafeBufferPointer(rebasing: raw[5..<(m - crcSize)])))
                    }
                    if let frame { deliver(frame) }
                    end += 1
                }
                start = end
            }
        }
    }
}
