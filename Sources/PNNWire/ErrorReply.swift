/// Error codes a device puts in an error reply. 0x0001–0x00FF are protocol-wide (the
/// table below); 0x0100–0xFFFF are defined by each family's command set.
public struct WireErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The frame type is not a command this device knows.
    public static let unknownCommand = WireErrorCode(rawValue: 0x0001)
    /// The payload is the wrong length or cannot be parsed.
    public static let badPayload = WireErrorCode(rawValue: 0x0002)
    /// A value is outside the device's safe or physical range; the device refused it and
    /// changed nothing.
    public static let outOfRange = WireErrorCode(rawValue: 0x0003)
    /// The device is busy (e.g. a previous operation is running); try again later.
    public static let busy = WireErrorCode(rawValue: 0x0004)
    /// The firmware failed internally.
    public static let `internal` = WireErrorCode(rawValue: 0x0005)
    /// The command is known but this board cannot do it (missing hardware or option).
    public static let notSupported = WireErrorCode(rawValue: 0x0006)
    /// The request exceeds a device buffer (e.g. a bulk transfer too large).
    public static let tooLarge = WireErrorCode(rawValue: 0x0007)
    /// A hardware safety interlock is active; nothing was applied.
    public static let interlock = WireErrorCode(rawValue: 0x0008)
    /// A command arrived before a successful hello.
    public static let handshakeRequired = WireErrorCode(rawValue: 0x0009)

    /// The protocol-wide codes, for documentation and conformance checks.
    public static let protocolCodes: [WireErrorCode] = [
        .unknownCommand, .badPayload, .outOfRange, .busy, .internal, .notSupported, .tooLarge,
        .interlock, .handshakeRequired,
    ]

    /// Whether the code belongs to a family command set.
    public var isFamilyCode: Bool { rawValue >= 0x0100 }

    public var description: String {
        switch self {
        case .unknownCommand: "unknown command"
        case .badPayload: "bad payload"
        case .outOfRange: "out of range (device refused an unsafe value)"
        case .busy: "device busy"
        case .internal: "internal firmware error"
        case .notSupported: "not supported by this board"
        case .tooLarge: "request too large for the device"
        case .interlock: "safety interlock active"
        case .handshakeRequired: "hello required first"
        default: isFamilyCode ? "family error 0x\(String(rawValue, radix: 16))" : "error 0x\(String(rawValue, radix: 16))"
        }
    }
}

/// An error reply from the device (type `error`, flags reply | error, seq echoing the
/// failed request). Payload: `code u16 | message (UTF-8, the rest of the payload)`.
public struct ErrorReply: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, by class.
    public var code: WireErrorCode
    /// The device's explanation.
    public var message: String

    public init(code: WireErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    /// The payload bytes.
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(code.rawValue)
        w.raw(Array(message.utf8))
        return w.bytes
    }

    /// Parses an error payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> ErrorReply {
        var r = PayloadReader(payload)
        let code = WireErrorCode(rawValue: try r.u16("code"))
        guard let message = String(validating: r.rest(), as: UTF8.self) else {
            throw .invalidUTF8(field: "message")
        }
        return ErrorReply(code: code, message: message)
    }

    /// The reply frame answering request `seq`.
    public func frame(seq: UInt16) -> Frame {
        Frame(type: .error, seq: seq, flags: [.reply, .error], payload: encode())
    }

    public var description: String {
        message.isEmpty ? "device error: \(code)" : "device error: \(code): \(message)"
    }
}
