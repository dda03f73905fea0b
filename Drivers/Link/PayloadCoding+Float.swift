import PNNWire

extension PayloadWriter {
    /// Appends an IEEE-754 binary64, little-endian.
    public mutating func f64(_ v: Double) {
        let bits = v.bitPattern
        u32(UInt32(truncatingIfNeeded: bits))
        u32(UInt32(truncatingIfNeeded: bits >> 32))
    }

    /// Appends each value as binary64, little-endian.
    public mutating func f64s(_ values: some Sequence<Double>) {
        for v in values { f64(v) }
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
        let raw = try raw(count * 8, field: field)
        var out = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var bits: UInt64 = 0
            for b in 0..<8 { bits |= UInt64(raw[i * 8 + b]) << (8 * b) }
            out[i] = Double(bitPattern: bits)
        }
        return out
    }
}
