/// Why a device cannot be talked to after the handshake.
public enum HandshakeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The device speaks another protocol version.
    case versionMismatch(device: UInt8, host: UInt8)
    /// The device's command-set schema differs from the one this pnnlab was built with.
    case schemaMismatch(family: String, device: UInt32, expected: UInt32)
    /// The hello payload could not be parsed.
    case malformed(PayloadError)

    public var description: String {
        switch self {
        case .versionMismatch(let d, let h):
            "device speaks protocol \(d), this pnnlab speaks \(h): update pnnlab or the firmware"
        case .schemaMismatch(let family, let d, let e):
            "device's \(family) command set has schema hash 0x\(hex8(d)), this pnnlab expects "
                + "0x\(hex8(e)): the firmware and pnnlab disagree on the commands; update one of them"
        case .malformed(let e): "malformed hello: \(e)"
        }
    }
}

func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

/// The host's hello (type `hello`, no reply flag). Payload:
/// `protocolVersion u8 | hostName (u16 length + UTF-8)`.
public struct HelloRequest: Hashable, Sendable {
    /// The protocol version the host speaks.
    public var protocolVersion: UInt8
    /// A human-readable name of the host (for the device's log).
    public var hostName: String

    public init(protocolVersion: UInt8 = PNNWireVersion.protocolVersion, hostName: String) {
        self.protocolVersion = protocolVersion
        self.hostName = hostName
    }

    /// The payload bytes.
    public func encode() throws(PayloadError) -> [UInt8] {
        var w = PayloadWriter()
        w.u8(protocolVersion)
        try w.string16(hostName, field: "hostName")
        return w.bytes
    }

    /// Parses a hello request payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> HelloRequest {
        var r = PayloadReader(payload)
        let version = try r.u8("protocolVersion")
        let name = try r.string16("hostName")
        try r.expectEnd()
        return HelloRequest(protocolVersion: version, hostName: name)
    }
}

/// The device's hello reply (type `hello`, flag reply). Payload:
/// `protocolVersion u8 | schemaHash u32 | family | model | serial | firmware (each u16
/// length + UTF-8) | capabilities u32 | descriptor (u16 length + bytes)`.
public struct HelloReply: Hashable, Sendable {
    /// The protocol version the device speaks.
    public var protocolVersion: UInt8
    /// CRC-32 of the family's canonical command-set schema text.
    public var schemaHash: UInt32
    /// Device family, e.g. "crossbar".
    public var family: String
    /// Board model.
    public var model: String
    /// Board serial number.
    public var serial: String
    /// Firmware version string.
    public var firmware: String
    /// Capability bits (meaning defined per family; bit 31 = emulator).
    public var capabilities: UInt32
    /// Opaque family descriptor (geometry, ranges…), interpreted by the family driver.
    public var descriptor: [UInt8]

    public init(
        protocolVersion: UInt8 = PNNWireVersion.protocolVersion, schemaHash: UInt32, family: String,
        model: String, serial: String, firmware: String, capabilities: UInt32, descriptor: [UInt8]
    ) {
        self.protocolVersion = protocolVersion
        self.schemaHash = schemaHash
        self.family = family
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.capabilities = capabilities
        self.descriptor = descriptor
    }

    /// The payload bytes.
    public func encode() throws(PayloadError) -> [UInt8] {
        var w = PayloadWriter()
        w.u8(protocolVersion)
        w.u32(schemaHash)
        try w.string16(family, field: "family")
        try w.string16(model, field: "model")
        try w.string16(serial, field: "serial")
        try w.string16(firmware, field: "firmware")
        w.u32(capabilities)
        try w.blob16(descriptor, field: "descriptor")
        return w.bytes
    }

    /// Parses a hello reply payload. The version byte is read first, so a device of
    /// another version is reported as a version mismatch, not as garbage.
    public static func decode(_ payload: [UInt8]) throws(HandshakeError) -> HelloReply {
        var r = PayloadReader(payload)
        guard let version = try? r.u8("protocolVersion") else {
            throw .malformed(.truncated(field: "protocolVersion", needed: 1, available: 0))
        }
        if version != PNNWireVersion.protocolVersion {
            throw .versionMismatch(device: version, host: PNNWireVersion.protocolVersion)
        }
        do throws(PayloadError) {
            let reply = HelloReply(
                protocolVersion: version, schemaHash: try r.u32("schemaHash"),
                family: try r.string16("family"), model: try r.string16("model"),
                serial: try r.string16("serial"), firmware: try r.string16("firmware"),
                capabilities: try r.u32("capabilities"), descriptor: try r.blob16("descriptor"))
            try r.expectEnd()
            return reply
        } catch {
            throw .malformed(error)
        }
    }

    /// Checks that the host can talk to this device.
    public func validate(
        hostVersion: UInt8 = PNNWireVersion.protocolVersion, expectedSchemaHash: UInt32
    ) throws(HandshakeError) {
        if protocolVersion != hostVersion {
            throw .versionMismatch(device: protocolVersion, host: hostVersion)
        }
        if schemaHash != expectedSchemaHash {
            throw .schemaMismatch(family: family, device: schemaHash, expected: expectedSchemaHash)
        }
    }
}
