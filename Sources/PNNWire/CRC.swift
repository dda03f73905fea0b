/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final
/// XOR. Check value of the ASCII string "123456789" is 0x29B1. Protects control frames.
public enum CRC16 {
    /// The 256-entry lookup table (one entry per leading byte).
    static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }

    /// The initial register value.
    public static let initial: UInt16 = 0xFFFF

    /// Continues a running CRC over `bytes`.
    public static func update(_ crc: UInt16, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var crc = crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ b)] }
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
public enum CRC32 {
    /// The 256-entry lookup table (reflected).
    static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    /// The initial register value (before the final XOR).
    public static let initial: UInt32 = 0xFFFF_FFFF

    /// Continues a running register over `bytes`; apply `finalize` once at the end.
    public static func update(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = (crc >> 8) ^ t[Int(UInt8(truncatingIfNeeded: crc) ^ b)] }
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
