#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a byte string is not valid Consistent Overhead Byte Stuffing.
public enum COBSError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Nothing between two delimiters: there is no frame to decode.
    case empty
    /// A 0x00 byte inside the encoded data (0x00 is reserved for the frame delimiter).
    case zeroByte(at: Int)
    /// A block's code byte promises more bytes than the frame holds.
    case truncatedBlock(at: Int, needed: Int, available: Int)

    public var description: String {
        switch self {
        case .empty:
            "COBS: empty frame (two delimiters in a row)"
        case .zeroByte(let i):
            "COBS: 0x00 inside an encoded frame at byte \(i); the line is corrupted"
        case .truncatedBlock(let i, let needed, let available):
            "COBS: block at byte \(i) announces \(needed) bytes but only \(available) follow; "
                + "bytes were lost on the line"
        }
    }
}

/// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999). Removes every 0x00 from a
/// byte string at a cost of at most ⌈n/254⌉ bytes (one code byte per 254-byte block, and at
/// least one), so that 0x00 can delimit frames on the wire. The encoding does not include
/// the delimiter.
public enum COBS {
    /// The largest encoded size of `n` bytes: n + max(1, ⌈n/254⌉).
    public static func maxEncodedCount(_ n: Int) -> Int { n + max(1, (n + 253) / 254) }

    /// Encodes `input`; the result contains no 0x00.
    public static func encode(_ input: [UInt8]) -> [UInt8] {
        let n = input.count
        return [UInt8](unsafeUninitializedCapacity: maxEncodedCount(n)) { out, count in
            count = input.withUnsafeBufferPointer { b in encode(b.baseAddress, count: n, to: out.baseAddress!) }
        }
    }

    /// Encodes `input`, appending the result (no delimiter) to `out`.
    public static func encode(_ input: UnsafeBufferPointer<UInt8>, appendingTo out: inout [UInt8]) {
        let n = input.count
        let start = out.count
        let capacity = maxEncodedCount(n)
        out.append(contentsOf: repeatElement(0, count: capacity))
        let written = out.withUnsafeMutableBufferPointer { b in
            encode(input.baseAddress, count: n, to: b.baseAddress! + start)
        }
        out.removeLast(capacity - written)
    }

    /// Encodes `count` bytes at `input` into `out` (room for ``maxEncodedCount(_:)`` bytes)
    /// and returns the encoded length. Whole runs of non-zero bytes are found with `memchr`
    /// and copied with `memmove`, so `out` may also lie before the input in the same buffer,
    /// at least `maxEncodedCount(count) - count` bytes before it (encoding in place).
    public static func encode(_ input: UnsafePointer<UInt8>?, count n: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard let input, n > 0 else {
            out[0] = 1
            return 1
        }
        var r = 0
        var w = 0
        while true {
            let span = min(254, n - r)
            let run: Int
            if span == 0 {
                run = 0
            } else if let z = memchr(input + r, 0, span) {
                run = UnsafeRawPointer(z) - UnsafeRawPointer(input + r)
            } else {
                run = span
            }
            out[w] = UInt8(truncatingIfNeeded: run + 1)
            if run > 0 { memmove(out + w + 1, input + r, run) }
            w += 1 + run
            r += run
            if run < span {
                r += 1  // the 0x00 the block's code stands for
            } else if run == 254 {
                if r == n { return w }  // a full block at the very end needs no successor
            } else {
                return w
            }
        }
    }

    /// Decodes one COBS-encoded frame (without its delimiter).
    public static func decode(_ input: [UInt8]) throws(COBSError) -> [UInt8] {
        var out = input
        let n = try out.withUnsafeMutableBufferPointer { (b) throws(COBSError) -> Int in
            try decodeInPlace(b)
        }
        out.removeLast(out.count - n)
        return out
    }

    /// Decodes in place (the decoded bytes never overtake the encoded ones) and returns the
    /// decoded length. Allocation-free; the frame decoder's hot path: each block is checked
    /// for 0x00 with `memchr` and moved with one `memmove`.
    public static func decodeInPlace(_ buf: UnsafeMutableBufferPointer<UInt8>) throws(COBSError) -> Int {
        let n = buf.count
        guard let p = buf.baseAddress, n > 0 else { throw .empty }
        var r = 0
        var w = 0
        while r < n {
            let code = Int(p[r])
            if code == 0 { throw .zeroByte(at: r) }
            let blockStart = r
            r += 1
            let len = code - 1
            if r + len > n {
                throw .truncatedBlock(at: blockStart, needed: len, available: n - r)
            }
            if len > 0 {
                if let z = memchr(p + r, 0, len) {
                    throw .zeroByte(at: UnsafeRawPointer(z) - UnsafeRawPointer(p))
                }
                if w != r { memmove(p + w, p + r, len) }
                w += len
                r += len
            }
            if code != 0xFF && r < n {
                p[w] = 0
                w += 1
            }
        }
        return w
    }
}
