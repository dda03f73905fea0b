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
        var out: [UInt8] = []
        input.withUnsafeBufferPointer { encode($0, appendingTo: &out) }
        return out
    }

    /// Encodes `input`, appending the result (no delimiter) to `out`.
    public static func encode(_ input: UnsafeBufferPointer<UInt8>, appendingTo out: inout [UInt8]) {
        let n = input.count
        out.reserveCapacity(out.count + maxEncodedCount(n) + 1)
        var codeIndex = out.count
        out.append(0)
        var code: UInt8 = 1
        var i = 0
        while i < n {
            let b = input[i]
            i += 1
            if b == 0 {
                out[codeIndex] = code
                codeIndex = out.count
                out.append(0)
                code = 1
                continue
            }
            out.append(b)
            code &+= 1
            if code == 0xFF {
                out[codeIndex] = code
                if i == n { return }  // a full block at the very end needs no successor
                codeIndex = out.count
                out.append(0)
                code = 1
            }
        }
        out[codeIndex] = code
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
    /// decoded length. Allocation-free; the frame decoder's hot path.
    public static func decodeInPlace(_ buf: UnsafeMutableBufferPointer<UInt8>) throws(COBSError) -> Int {
        let n = buf.count
        if n == 0 { throw .empty }
        var r = 0
        var w = 0
        while r < n {
            let code = Int(buf[r])
            if code == 0 { throw .zeroByte(at: r) }
            let blockStart = r
            r += 1
            let len = code - 1
            if r + len > n {
                throw .truncatedBlock(at: blockStart, needed: len, available: n - r)
            }
            let end = r + len
            while r < end {
                let b = buf[r]
                if b == 0 { throw .zeroByte(at: r) }
                buf[w] = b
                w += 1
                r += 1
            }
            if code != 0xFF && r < n {
                buf[w] = 0
                w += 1
            }
        }
        return w
    }
}
