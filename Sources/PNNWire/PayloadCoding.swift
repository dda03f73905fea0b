/// Why a payload could not be encoded or decoded.
public enum PayloadError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The payload ended before `field` was complete.
    case truncated(field: String, needed: Int, available: Int)
    /// A text field is not valid UTF-8.
    case invalidUTF8(field: String)
    /// Bytes left over after the last field.
    case trailingBytes(Int)
    /// A field is too long for its length prefix or the frame.
    case tooLong(field: String, length: Int, limit: Int)
    /// A field holds a value the protocol does not allow.
    case invalidValue(field: String, reason: String)

    public var description: String {
        switch self {
        case .truncated(let f, let needed, let available):
            "payload too short: '\(f)' needs \(needed) bytes, \(available) left"
        case .invalidUTF8(let f): "payload field '\(f)' is not valid UTF-8 text"
        case .trailingBytes(let n): "payload has \(n) unexpected bytes after its last field"
        case .tooLong(let f, let n, let limit): "payload field '\(f)' is \(n) bytes, limit \(limit)"
        case .invalidValue(let f, let reason): "payload field '\(f)' is invalid: \(reason)"
        }
    }
}

/// Little-endian payload writer.
public struct PayloadWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    /// A u64, little-endian.
    public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }
    /// Each value as a u64, little-endian, in one copy (on a little-endian host): a stream
    /// frame's hundreds of values were appended one call each, a quarter of the stream's CPU.
    public mutating func u64s(_ values: UnsafeBufferPointer<UInt64>) {
        #if _endian(little)
            bytes.append(contentsOf: UnsafeRawBufferPointer(values))
        #else
            reserve(8 * values.count)
            for v in values { u64(v) }
        #endif
    }
    /// Makes room for `n` more bytes without reallocating on the way.
    public mutating func reserve(_ n: Int) { bytes.reserveCapacity(bytes.count + n) }
    /// Raw bytes, no length prefix.
    public mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    /// u16 length prefix, then the bytes.
    public mutating func blob16(_ v: [UInt8], field: String) throws(PayloadError) {
        guard v.count <= Int(UInt16.max) else {
            throw .tooLong(field: field, length: v.count, limit: Int(UInt16.max))
        }
        u16(UInt16(v.count))
        raw(v)
    }
    /// u16 length prefix, then UTF-8 text (no terminator).
    public mutating func string16(_ s: String, field: String) throws(PayloadError) {
        try blob16(Array(s.utf8), field: field)
    }
}

/// Little-endian payload reader; every read checks the remaining length.
public struct PayloadReader: Sendable {
    private let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var index = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - index }

    private mutating func take(_ n: Int, _ field: String) throws(PayloadError) -> ArraySlice<UInt8> {
        guard remaining >= n else { throw .truncated(field: field, needed: n, available: remaining) }
        defer { index += n }
        return bytes[index..<(index + n)]
    }
    public mutating func u8(_ field: String) throws(PayloadError) -> UInt8 { try take(1, field).first! }
    public mutating func u16(_ field: String) throws(PayloadError) -> UInt16 {
        let s = try take(2, field)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }
    public mutating func u32(_ field: String) throws(PayloadError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(field: field, needed: 4, available: remaining) }
        defer { index += 4 }
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: index, as: UInt32.self)) }
    }
    /// `count` little-endian u64 values.
    public mutating func u64s(_ count: Int, field: String) throws(PayloadError) -> [UInt64] {
        let n = count * 8
        guard count >= 0, remaining >= n else { throw .truncated(field: field, needed: n, available: remaining) }
        defer { index += n }
        let start = index
        return [UInt64](unsafeUninitializedCapacity: count) { out, made in
            bytes.withUnsafeBytes { raw in
                for i in 0..<count {
                    out[i] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))
                }
            }
            made = count
        }
    }
    /// `n` raw bytes.
    public mutating func raw(_ n: Int, field: String) throws(PayloadError) -> [UInt8] {
        Array(try take(n, field))
    }
    /// Everything left.
    public mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return Array(bytes[index...])
    }
    public mutating func blob16(_ field: String) throws(PayloadError) -> [UInt8] {
        let n = Int(try u16(field))
        return try raw(n, field: field)
    }
    public mutating func string16(_ field: String) throws(PayloadError) -> String {
        let b = try blob16(field)
        guard let s = String(validating: b, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return s
    }
    /// Throws unless every byte was read.
    public func expectEnd() throws(PayloadError) {
        if remaining != 0 { throw .trailingBytes(remaining) }
    }
}
