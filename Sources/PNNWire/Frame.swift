/// Why a received frame was rejected. Rejected frames are never delivered as data.
public enum FrameError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The bytes between two delimiters are not valid COBS.
    case cobs(COBSError)
    /// Fewer bytes than a header plus CRC.
    case tooShort(length: Int, minimum: Int)
    /// Larger than the configured limit for its kind (control or bulk).
    case oversize(length: Int, limit: Int)
    /// The CRC trailer does not match the header and payload.
    case crcMismatch(received: UInt32, computed: UInt32)
    /// A frame (with a valid CRC) from a different protocol version.
    case unsupportedVersion(UInt8)
    /// Flag bits that version 1 does not define.
    case reservedFlags(UInt8)

    public var description: String {
        switch self {
        case .cobs(let e): "frame rejected: \(e)"
        case .tooShort(let n, let m):
            "frame rejected: \(n) bytes is shorter than the \(m)-byte minimum (header + CRC)"
        case .oversize(let n, let limit):
            "frame rejected: \(n) bytes exceeds the \(limit)-byte limit"
        case .crcMismatch(let r, let c):
            "frame rejected: CRC mismatch (received 0x\(String(r, radix: 16)), computed "
                + "0x\(String(c, radix: 16))); bytes were corrupted on the line"
        case .unsupportedVersion(let v):
            "frame rejected: protocol version \(v), this pnnlab speaks "
                + "\(PNNWireVersion.protocolVersion)"
        case .reservedFlags(let f):
            "frame rejected: reserved flag bits set (flags 0x\(String(f, radix: 16)))"
        }
    }
}

/// One protocol frame: header (version, type, seq, flags), payload, CRC.
///
/// Layout of the decoded frame (all integers little-endian):
/// `version u8 | type u8 | seq u16 | flags u8 | payload … | CRC` where the CRC covers
/// every preceding byte and is CRC-16/CCITT-FALSE (2 bytes) or, with flag `bulk`,
/// CRC-32 (4 bytes). On the wire the frame is COBS-encoded and followed by 0x00.
public struct Frame: Hashable, Sendable, CustomStringConvertible {
    /// Bytes before the payload.
    public static let headerSize = 5

    /// What the frame is.
    public var type: FrameType
    /// Sequence number: assigned by the requester, echoed by the reply; for stream frames
    /// the stream's own counter.
    public var seq: UInt16
    /// Header flags.
    public var flags: FrameFlags
    /// The payload bytes.
    public var payload: [UInt8]

    public init(type: FrameType, seq: UInt16, flags: FrameFlags = [], payload: [UInt8] = []) {
        self.type = type
        self.seq = seq
        self.flags = flags
        self.payload = payload
    }

    /// Length of the CRC trailer for these flags.
    public static func crcSize(flags: FrameFlags) -> Int { flags.contains(.bulk) ? 4 : 2 }

    /// The decoded frame bytes (header, payload, CRC), without COBS or delimiter.
    public var rawBytes: [UInt8] { rawBytes(version: PNNWireVersion.protocolVersion) }

    /// The decoded frame bytes with another header version (only to test how receivers
    /// treat a device of another protocol version).
    public func rawBytes(version: UInt8) -> [UInt8] {
        let n = Self.headerSize + payload.count + Self.crcSize(flags: flags)
        return [UInt8](unsafeUninitializedCapacity: n) { b, count in
            writeRaw(version: version, to: b.baseAddress!)
            count = n
        }
    }

    /// Writes header, payload and CRC (``rawBytes``' bytes) to `out`.
    private func writeRaw(version: UInt8, to out: UnsafeMutablePointer<UInt8>) {
        out[0] = version
        out[1] = type.rawValue
        out[2] = UInt8(truncatingIfNeeded: seq)
        out[3] = UInt8(truncatingIfNeeded: seq >> 8)
        out[4] = flags.rawValue
        let body = Self.headerSize + payload.count
        payload.withUnsafeBufferPointer { p in
            if let src = p.baseAddress, p.count > 0 { (out + Self.headerSize).update(from: src, count: p.count) }
        }
        if flags.contains(.bulk) {
            let crc = CRC32.finalize(CRC32.update(CRC32.initial, UnsafeBufferPointer(start: out, count: body)))
            for k in 0..<4 { out[body + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
        } else {
            let crc = CRC16.update(CRC16.initial, UnsafeBufferPointer(start: out, count: body))
            out[body] = UInt8(truncatingIfNeeded: crc)
            out[body + 1] = UInt8(truncatingIfNeeded: crc >> 8)
        }
    }

    /// The largest number of wire bytes (COBS + delimiter) this frame can take.
    public var maxWireCount: Int {
        COBS.maxEncodedCount(Self.headerSize + payload.count + Self.crcSize(flags: flags)) + 1
    }

    /// Writes the wire bytes (COBS(raw frame) and the 0x00 delimiter) to `out`, which has
    /// room for ``maxWireCount`` bytes, and returns how many were written. One pass over a
    /// single buffer: the raw frame is laid out at the end of `out` and COBS-encoded in
    /// place towards its start.
    private func writeWire(version: UInt8 = PNNWireVersion.protocolVersion, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let rawCount = Self.headerSize + payload.count + Self.crcSize(flags: flags)
        let slack = COBS.maxEncodedCount(rawCount) - rawCount
        writeRaw(version: version, to: out + slack)
        let w = COBS.encode(out + slack, count: rawCount, to: out)
        out[w] = 0
        return w + 1
    }

    /// Checks reserved flags and the size limit before encoding.
    private func checkEncodable(limits: FrameLimits) throws(FrameError) {
        if flags.rawValue & FrameFlags.reservedMask != 0 { throw .reservedFlags(flags.rawValue) }
        let rawCount = Self.headerSize + payload.count + Self.crcSize(flags: flags)
        let limit = flags.contains(.bulk) ? limits.maxBulkFrame : limits.maxControlFrame
        if rawCount > limit { throw .oversize(length: rawCount, limit: limit) }
    }

    /// The bytes to put on the wire: COBS(raw frame) followed by the 0x00 delimiter.
    /// Throws when the frame exceeds `limits` or sets reserved flags. One allocation.
    public func encoded(limits: FrameLimits = .standard) throws(FrameError) -> [UInt8] {
        try checkEncodable(limits: limits)
        return [UInt8](unsafeUninitializedCapacity: maxWireCount) { b, count in
            count = writeWire(to: b.baseAddress!)
        }
    }

    /// The wire bytes (as ``encoded(limits:)``) with header version `version` and without
    /// the flag and size checks: what a device puts on the line (emulators, which may also
    /// be told to speak another version). One allocation, one pass.
    public func wireBytes(version: UInt8) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: maxWireCount) { b, count in
            count = writeWire(version: version, to: b.baseAddress!)
        }
    }

    /// Appends the wire bytes (as ``encoded(limits:)``) to `out`, so that a sender can
    /// collect several frames in one reused buffer and write them at once. On a throw `out`
    /// is unchanged.
    public func encode(appendingTo out: inout [UInt8], limits: FrameLimits = .standard) throws(FrameError) {
        try checkEncodable(limits: limits)
        let start = out.count
        let room = maxWireCount
        out.append(contentsOf: repeatElement(0, count: room))
        let written = out.withUnsafeMutableBufferPointer { b in
            writeWire(to: b.baseAddress! + start)
        }
        out.removeLast(room - written)
    }

    /// Parses and verifies a decoded frame (after COBS): length, limits, CRC, version,
    /// flags — in that order.
    public static func decode(raw: UnsafeBufferPointer<UInt8>, limits: FrameLimits = .standard)
        throws(FrameError) -> Frame
    {
        let n = raw.count
        if n < headerSize + 2 { throw .tooShort(length: n, minimum: headerSize + 2) }
        let flags = FrameFlags(rawValue: raw[4])
        let bulk = flags.contains(.bulk)
        let crcSize = bulk ? 4 : 2
        if n < headerSize + crcSize { throw .tooShort(length: n, minimum: headerSize + crcSize) }
        let limit = bulk ? limits.maxBulkFrame : limits.maxControlFrame
        if n > limit { throw .oversize(length: n, limit: limit) }
        let body = UnsafeBufferPointer(rebasing: raw[0..<(n - crcSize)])
        if bulk {
            let computed = CRC32.finalize(CRC32.update(CRC32.initial, body))
            let received =
                UInt32(raw[n - 4]) | UInt32(raw[n - 3]) << 8
                | UInt32(raw[n - 2]) << 16 | UInt32(raw[n - 1]) << 24
            if computed != received { throw .crcMismatch(received: received, computed: computed) }
        } else {
            let computed = CRC16.update(CRC16.initial, body)
            let received = UInt16(raw[n - 2]) | UInt16(raw[n - 1]) << 8
            if computed != received {
                throw .crcMismatch(received: UInt32(received), computed: UInt32(computed))
            }
        }
        if raw[0] != PNNWireVersion.protocolVersion { throw .unsupportedVersion(raw[0]) }
        if flags.rawValue & FrameFlags.reservedMask != 0 { throw .reservedFlags(flags.rawValue) }
        return Frame(
            type: FrameType(rawValue: raw[1]), seq: UInt16(raw[2]) | UInt16(raw[3]) << 8,
            flags: flags, payload: Array(UnsafeBufferPointer(rebasing: raw[headerSize..<(n - crcSize)])))
    }

    /// Parses a decoded frame held in an array.
    public static func decode(raw: [UInt8], limits: FrameLimits = .standard) throws(FrameError) -> Frame {
        try raw.withUnsafeBufferPointer { (b) throws(FrameError) -> Frame in try decode(raw: b, limits: limits) }
    }

    /// Parses wire bytes of exactly one frame (COBS-encoded, optional trailing 0x00).
    public static func decode(wire: [UInt8], limits: FrameLimits = .standard) throws(FrameError) -> Frame {
        var bytes = wire
        if bytes.last == 0 { bytes.removeLast() }
        let raw: [UInt8]
        do { raw = try COBS.decode(bytes) } catch { throw .cobs(error) }
        return try decode(raw: raw, limits: limits)
    }

    public var description: String {
        "Frame(\(type) seq=\(seq) flags=0x\(String(flags.rawValue, radix: 16)) payload=\(payload.count)B)"
    }
}
