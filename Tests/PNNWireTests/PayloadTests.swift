import Testing

@testable import PNNWire

@Suite struct PayloadTests {
    static let reply = HelloReply(
        schemaHash: 0xDEAD_BEEF, family: "crossbar", model: "emu-32x32", serial: "SN0042",
        firmware: "0.1.0", capabilities: 0x8000_0001, descriptor: [1, 2, 3, 0, 255])

    @Test func helloRoundTrips() throws {
        let req = HelloRequest(hostName: "lab-pc ✓")
        #expect(try HelloRequest.decode(req.encode()) == req)
        #expect(try HelloReply.decode(Self.reply.encode()) == Self.reply)
        try Self.reply.validate(expectedSchemaHash: 0xDEAD_BEEF)
    }

    @Test func versionMismatchIsClear() throws {
        var r = Self.reply
        r.protocolVersion = 2
        let payload = try r.encode()
        #expect(throws: HandshakeError.versionMismatch(device: 2, host: 1)) { try HelloReply.decode(payload) }
        // Even a v2 payload we cannot parse beyond byte 0 gives the version error, not garbage.
        #expect(throws: HandshakeError.versionMismatch(device: 2, host: 1)) { try HelloReply.decode([2, 9]) }
        #expect(
            HandshakeError.versionMismatch(device: 2, host: 1).description
                == "device speaks protocol 2, this pnnlab speaks 1: update pnnlab or the firmware")
        #expect(throws: HandshakeError.versionMismatch(device: 2, host: 1)) {
            try r.validate(expectedSchemaHash: 0xDEAD_BEEF)
        }
    }

    @Test func schemaMismatchIsClear() {
        do {
            try Self.reply.validate(expectedSchemaHash: 0x0000_1234)
            Issue.record("expected a schema mismatch")
        } catch {
            #expect(error == .schemaMismatch(family: "crossbar", device: 0xDEAD_BEEF, expected: 0x1234))
            #expect(error.description.contains("0xDEADBEEF") && error.description.contains("0x00001234"))
        }
    }

    @Test func malformedHelloIsTyped() throws {
        let payload = try Self.reply.encode()
        #expect(throws: HandshakeError.self) { try HelloReply.decode(Array(payload.dropLast())) }
        #expect(throws: HandshakeError.malformed(.trailingBytes(1))) { try HelloReply.decode(payload + [0]) }
        #expect(throws: PayloadError.invalidUTF8(field: "hostName")) { try HelloRequest.decode([1, 2, 0, 0xFF, 0xFE]) }
    }

    @Test func errorReplyRoundTrips() throws {
        for code in WireErrorCode.protocolCodes + [WireErrorCode(rawValue: 0x0123)] {
            let e = ErrorReply(code: code, message: "V = 12 V exceeds the 5 V limit")
            #expect(try ErrorReply.decode(e.encode()) == e)
            let f = e.frame(seq: 9)
            #expect(f.type == .error && f.flags == [.reply, .error] && f.seq == 9)
        }
        #expect(try ErrorReply.decode([3, 0]) == ErrorReply(code: .outOfRange, message: ""))
        #expect(throws: PayloadError.self) { try ErrorReply.decode([3]) }
        #expect(ErrorReply(code: .outOfRange, message: "x").description.contains("refused an unsafe value"))
        #expect(Set(WireErrorCode.protocolCodes.map(\.rawValue)).count == WireErrorCode.protocolCodes.count)
    }

    @Test func integersAreLittleEndianByteForByte() throws {
        var w = PayloadWriter()
        w.u32(0x1234_5678)
        w.u64(0x0102_0304_0506_0708)
        w.u32(0xFFFF_FFFE)
        #expect(w.bytes == [0x78, 0x56, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1, 0xFE, 0xFF, 0xFF, 0xFF])
        var r = PayloadReader(w.bytes)
        #expect(try r.u32("a") == 0x1234_5678)
        #expect(try r.u64s(1, field: "b") == [0x0102_0304_0506_0708])
        #expect(try r.u32("c") == 0xFFFF_FFFE)
        #expect(throws: PayloadError.truncated(field: "d", needed: 4, available: 0)) { try r.u32("d") }
        var short = PayloadReader([1, 2, 3, 4, 5, 6, 7, 8, 9])
        _ = try short.u8("skip")
        #expect(try short.u64s(1, field: "odd offset") == [0x0908_0706_0504_0302])
        #expect(throws: PayloadError.truncated(field: "e", needed: 16, available: 0)) { try short.u64s(2, field: "e") }
    }
}
