import Foundation

/// Arrays of `Double` as little-endian Float64 blobs (one memcpy each way; x86-64 and
/// ARM64 are little-endian, which is asserted at compile time below).
enum BlobCoding {
    static func encode(_ values: [Double]) -> Data {
        values.withUnsafeBytes { Data($0) }
    }

    static func decode(_ data: Data) throws(StoreError) -> [Double] {
        guard data.count % 8 == 0 else { throw .corrupt("blob of \(data.count) bytes is not a whole number of Float64 values") }
        let n = data.count / 8
        var out = [Double](repeating: 0, count: n)
        out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                if let d = dst.baseAddress, let s = src.baseAddress { memcpy(d, s, data.count) }
            }
        }
        return out
    }
}

#if !(arch(x86_64) || arch(arm64))
    #error("BlobCoding assumes a little-endian platform")
#endif
