// libFuzzer target over PNNWire, built by `make fuzz` with swiftc -sanitize=fuzzer,address
// (not part of the SwiftPM package: a normal build has no fuzzer runtime).
// Compiled together with Sources/PNNWire/*.swift into one module, so no import.

@_cdecl("LLVMFuzzerTestOneInput")
public func pnnwireFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    bytes.withUnsafeBytes { pnnwireFuzzOneInput($0) }  // decoder invariants, re-encoding
    checkAgainstOracle(bytes)
    return 0
}

/// An independent oracle: split at 0x00, undo COBS, check length, CRC, version and flags
/// by hand. The decoder must deliver exactly the candidates the oracle accepts — so no
/// frame whose CRC failed is ever delivered, and no good frame is lost.
func checkAgainstOracle(_ bytes: [UInt8]) {
    var decoder = FrameDecoder()
    let delivered = decoder.feed(bytes)
    var accepted: [[UInt8]] = []
    var candidate: [UInt8] = []
    for b in bytes {
        if b != 0 {
            candidate.append(b)
            continue
        }
        defer { candidate.removeAll() }
        guard !candidate.isEmpty, let raw = try? COBS.decode(candidate), raw.count >= 7 else { continue }
        let bulk = raw[4] & 0x01 != 0
        let crcSize = bulk ? 4 : 2
        guard raw.count >= 5 + crcSize, raw.count <= (bulk ? 65_555 : 4_096) else { continue }
        let body = Array(raw[0..<(raw.count - crcSize)])
        let tail = Array(raw[(raw.count - crcSize)...])
        let ok: Bool
        if bulk {
            let c = CRC32.checksum(body)
            ok = tail == [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: c >> $0) }
        } else {
            let c = CRC16.checksum(body)
            ok = tail == [UInt8(truncatingIfNeeded: c), UInt8(truncatingIfNeeded: c >> 8)]
        }
        guard ok, raw[0] == 1, raw[4] & 0xE0 == 0 else { continue }
        accepted.append(raw)
    }
    precondition(delivered.map(\.rawBytes) == accepted, "decoder and oracle disagree on which frames are valid")
}
