import Foundation

/// `[Double]` ⇄ BLOB of little-endian IEEE-754 Float64, one `memcpy` each way.
///
/// The on-disk format is little-endian Float64, `8 * count` bytes, no header, so numpy
/// reads a blob with `np.frombuffer(blob, dtype="<f8")`. The bytes are copied as they lie
/// in memory, which is that format on every platform pnnlab builds for (x86-64 and ARM64
/// are little-endian; any other architecture is refused at compile time below). NaN
/// payloads, infinities and -0 survive bit for bit.
enum BlobCoding {
    /// The blob for `values` (a single copy of the array's bytes).
    static func encode(_ values: [Double]) -> Data {
        values.withUnsafeBytes { Data($0) }
    }

    /// The values stored in `bytes`; `nil` when the length is not a multiple of 8.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [Double]? {
        guard bytes.count % 8 == 0 else { return nil }
        let n = bytes.count / 8
        return [Double](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes) }
            initialized = n
        }
    }

    /// The values stored in `data`; `nil` when the length is not a multiple of 8.
    static func decode(_ data: Data) -> [Double]? {
        data.withUnsafeBytes { decode($0) }
    }
}

#if !(arch(x86_64) || arch(arm64))
    #error("BlobCoding stores Float64 in native byte order, which must be little-endian")
#endif
