import PNNWire

extension PayloadWriter {
    /// Appends an IEEE-754 binary64, little-endian.
    public mutating func f64(_ v: Double) {
        u64(v.bitPattern)
    }

    /// Appends each value as binary64, little-endian: arrays and slices in one copy.
    public mutating func f64s(_ values: some Sequence<Double>) {
        let copied: Void? = values.withContiguousStorageIfAvailable { doubles in
            doubles.withMemoryRebound(to: UInt64.self) { u64s($0) }
        }
        if copied != nil { return }
        reserve(8 * values.underestimatedCount)
        for v in values { u64(v.bitPattern) }
    }
}

extension PayloadReader {
    /// Reads an IEEE-754 binary64, little-endian.
    public mutating func f64(_ field: String) throws(PayloadError) -> Double {
        let lo = UInt64(try u32(field))
        let hi = UInt64(try u32(field))
        return Double(bitPattern: lo | hi << 32)
    }

    /// Reads `count` binary64 values.
    public mutating func f64s(_ count: Int, field: String) throws(PayloadError) -> [Double] {
        let bits = try u64s(count, field: field)
        return [Double](unsafeUninitializedCapacity: bits.count) { out, made in
            bits.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
            }
            made = bits.count
        }
    }
}
