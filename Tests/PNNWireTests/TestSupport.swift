import PNNCore

@testable import PNNWire

extension SeededRandom {
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }

    /// A random valid frame: random type, flags from the defined bits, payload length
    /// biased to include empty and long payloads.
    mutating func frame() -> Frame {
        let flags = FrameFlags(rawValue: byte() & 0x1F)
        let len = next() % 4 == 0 ? int(0..<3) : int(0..<300)
        return Frame(
            type: FrameType(rawValue: byte()), seq: UInt16(truncatingIfNeeded: next()), flags: flags, payload: bytes(len))
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        let s = String(b, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }.joined(separator: " ")
}

func wire(_ frame: Frame) -> [UInt8] {
    do { return try frame.encoded() } catch { fatalError("\(error)") }
}
