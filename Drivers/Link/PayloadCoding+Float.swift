import PNNWire

extension PayloadWriter {
    /// Appends an IEEE-754 binary64, little-endian.
    public mutating func f64(_ v: Double) {
        u64(v.bitPattern)
    }

    /// Appends each value as binary64, little-endian.
    public mutating func f64s(_ values: some Sequence<Double>) {
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
        try u64s(count, field: field).map { Double(bitPattern: $0) }
    }
}
