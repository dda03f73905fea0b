/// The protocol version this module speaks; byte 0 of every frame.
public enum PNNWireVersion {
    /// Protocol version 1.
    public static let protocolVersion: UInt8 = 1
}

/// What a frame is (byte 1 of the header). Core types live in 0x01–0x3F; 0x40–0xFF is
/// reserved for each device family's command set (e.g. the crossbar's). A reply carries
/// the request's type, except error replies (`error`) and replies to `bulkChunk`
/// (`bulkAck`).
///
/// A struct over `UInt8` rather than a Swift `enum`, so that family commands and
/// not-yet-known types round-trip unchanged.
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Handshake: the host's hello; the device replies with a hello (reply flag set).
    public static let hello = FrameType(rawValue: 0x01)
    /// Liveness and latency check; the reply echoes the payload.
    public static let ping = FrameType(rawValue: 0x02)
    /// An error reply: code and message (flags reply | error).
    public static let error = FrameType(rawValue: 0x03)
    /// Device-pushed stream data (flag stream, never acknowledged).
    public static let streamData = FrameType(rawValue: 0x04)
    /// One chunk of a bulk transfer (flag bulk, CRC-32).
    public static let bulkChunk = FrameType(rawValue: 0x05)
    /// The receiver's acknowledgement of a bulk chunk.
    public static let bulkAck = FrameType(rawValue: 0x06)
    /// The device's damage notice (flag reply, seq 0, empty payload): a frame arrived
    /// damaged (CRC or COBS failure of a frame that began like one of this protocol).
    /// Queued behind the replies to the requests that arrived before it, so the host
    /// re-sends its oldest unanswered request at once (docs/protocol.md §8).
    public static let damaged = FrameType(rawValue: 0x07)

    /// Type codes reserved for device-family command sets.
    public static let familyRange: ClosedRange<UInt8> = 0x40...0xFF

    /// A family command `0x40 + index`, or nil when `index` > 0xBF.
    public static func family(_ index: UInt8) -> FrameType? {
        index <= 0xBF ? FrameType(rawValue: 0x40 + index) : nil
    }

    /// Whether this type belongs to a device family's command set.
    public var isFamilyCommand: Bool { Self.familyRange.contains(rawValue) }

    public var description: String {
        switch self {
        case .hello: "hello"
        case .ping: "ping"
        case .error: "error"
        case .streamData: "streamData"
        case .bulkChunk: "bulkChunk"
        case .bulkAck: "bulkAck"
        case .damaged: "damaged"
        default:
            isFamilyCommand
                ? "family(0x\(String(rawValue, radix: 16)))"
                : "reserved(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// Header flags (byte 4 of the header). Bits 5–7 are reserved and must be zero.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Bulk chunk: the trailer is CRC-32 (4 bytes) instead of CRC-16.
    public static let bulk = FrameFlags(rawValue: 0x01)
    /// A reply; its seq echoes the request's.
    public static let reply = FrameFlags(rawValue: 0x02)
    /// An error reply (type `error`).
    public static let error = FrameFlags(rawValue: 0x04)
    /// Device-pushed stream frame, not acknowledged; seq is the stream's own counter.
    public static let stream = FrameFlags(rawValue: 0x08)
    /// A retransmission of an earlier request with the same seq; the device answers a
    /// retransmitted write from its de-duplication cache instead of executing it again.
    public static let retransmission = FrameFlags(rawValue: 0x10)

    /// Bits no version-1 frame may set.
    public static let reservedMask: UInt8 = 0xE0
}

/// Size limits on decoded frames (header + payload + CRC).
public struct FrameLimits: Sendable, Equatable {
    /// Largest control frame (no bulk flag), bytes.
    public var maxControlFrame: Int
    /// Largest bulk frame, bytes.
    public var maxBulkFrame: Int

    public init(maxControlFrame: Int = 4096, maxBulkFrame: Int = Frame.headerSize + 10 + 65_536 + 4) {
        self.maxControlFrame = maxControlFrame
        self.maxBulkFrame = maxBulkFrame
    }

    /// 4096-byte control frames, bulk chunks carrying up to 64 KiB of data.
    public static let standard = FrameLimits()
}
