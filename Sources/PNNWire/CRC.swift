/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final
/// XOR. Check value of the ASCII string "123456789" is 0x29B1. Protects control frames.
///
/// Computed slicing-by-8 (eight bytes per step through eight 256-entry tables), with the
/// classic one-table loop for the last bytes; both give the same register bit for bit.
public enum CRC16 {
    /// Eight 256-entry tables, flat: entry `k * 256 + b` is the CRC register contribution
    /// of byte `b` followed by `k` zero bytes (k = 0 is the classic table).
    static let tables: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
            t[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let prev = t[(k - 1) * 256 + byte]
                t[k * 256 + byte] = (prev << 8) ^ t[Int(prev >> 8)]
            }
        }
        return t
    }()

    /// The initial register value.
    public static let initial: UInt16 = 0xFFFF

    /// Continues a running CRC over `bytes`.
    public static func update(_ crc: UInt16, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        guard let base = bytes.baseAddress else { return crc }
        return tables.withUnsafeBufferPointer { t in update(crc, base, bytes.count, tables: t.baseAddress!) }
    }

    /// Continues a running CRC over `count` bytes at `p` with the tables at `t`.
    @inline(__always)
    static func update(_ crc: UInt16, _ p: UnsafePointer<UInt8>, _ count: Int, tables t: UnsafePointer<UInt16>) -> UInt16 {
        var crc = crc
        var p = p
        var n = count
        while n >= 8 {
            let c = Int(crc)
            crc =
                t[7 * 256 + (c >> 8 ^ Int(p[0]))] ^ t[6 * 256 + (c & 0xFF ^ Int(p[1]))]
                ^ t[5 * 256 + Int(p[2])] ^ t[4 * 256 + Int(p[3])]
                ^ t[3 * 256 + Int(p[4])] ^ t[2 * 256 + Int(p[5])]
                ^ t[1 * 256 + Int(p[6])] ^ t[Int(p[7])]
            p += 8
            n -= 8
        }
        while n > 0 {
            crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ p[0])]
            p += 1
            n -= 1
        }
        return crc
    }

    /// The CRC of a whole byte sequence.
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        bytes.withUnsafeBufferPointer { update(initial, $0) }
    }
}

/// CRC-32 as in IEEE 802.3 / zlib: reflected polynomial 0xEDB88320, initial value
/// 0xFFFFFFFF, final XOR 0xFFFFFFFF. Check value of "123456789" is 0xCBF43926. Protects
/// bulk chunks.
///
/// Computed slicing-by-8 (eight bytes per step through eight 256-entry tables), with the
/// classic one-table loop for the last bytes.
public enum CRC32 {
    /// Eight 256-entry tables, flat: entry `k * 256 + b` is the contribution of byte `b`
    /// followed by `k` zero bytes (k = 0 is the classic reflected table).
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            t[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let prev = t[(k - 1) * 256 + byte]
                t[k * 256 + byte] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    /// The initial register value (before the final XOR).
    public static let initial: UInt32 = 0xFFFF_FFFF

    /// Continues a running register over `bytes`; apply `finalize` once at the end.
    public static func update(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return tables.withUnsafeBufferPointer { t in update(crc, base, bytes.count, tables: t.baseAddress!) }
    }

    /// Continues a running register over `count` bytes at `p` with the tables at `t`.
    @inline(__always)
    static func update(_ crc: UInt32, _ p: UnsafePointer<UInt8>, _ count: Int, tables t: UnsafePointer<UInt32>) -> UInt32 {
        var crc = crc
        var p = p
        var n = count
        while n >= 8 {
            let lo =
                crc ^ (UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24)
            crc =
                t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int(lo >> 8 & 0xFF)]
                ^ t[5 * 256 + Int(lo >> 16 & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                ^ t[3 * 256 + Int(p[4])] ^ t[2 * 256 + Int(p[5])]
                ^ t[1 * 256 + Int(p[6])] ^ t[Int(p[7])]
            p += 8
            n -= 8
        }
        while n > 0 {
            crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ p[0])]
            p += 1
            n -= 1
        }
        return crc
    }

    /// Applies the final XOR to a running register.
    public static func finalize(_ crc: UInt32) -> UInt32 { crc ^ 0xFFFF_FFFF }

    /// The CRC of a whole byte sequence.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { finalize(update(initial, $0)) }
    }
}
