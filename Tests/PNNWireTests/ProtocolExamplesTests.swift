import Testing

@testable import PNNWire

/// The worked examples in docs/protocol.md, asserted byte for byte so the document stays
/// true to the code. Set PNNWIRE_PRINT_EXAMPLES=1 to print them.
@Suite struct ProtocolExamplesTests {
    struct Example {
        let name: String
        let frame: Frame
        let raw: String
        let crc: String
        let wire: String
    }

    static func examples() throws -> [Example] {
        let hello = HelloReply(
            schemaHash: 0x1234_ABCD, family: "crossbar", model: "emu", serial: "0001", firmware: "1.0",
            capabilities: 0x8000_0000, descriptor: [])
        let frames: [(String, Frame)] = [
            ("ping request", Frame(type: .ping, seq: 1, payload: [0x00, 0x2A])),
            ("ping reply", Frame(type: .ping, seq: 1, flags: .reply, payload: [0x00, 0x2A])),
            ("hello request", Frame(type: .hello, seq: 0, payload: try HelloRequest(hostName: "lab").encode())),
            ("hello reply", Frame(type: .hello, seq: 0, flags: .reply, payload: try hello.encode())),
            ("error reply", ErrorReply(code: .outOfRange, message: "V>5").frame(seq: 5)),
            ("bulk chunk", BulkChunk(transferID: 1, offset: 0, total: 4, data: [0xDE, 0xAD, 0xBE, 0xEF]).frame(seq: 2)),
        ]
        return try frames.map { name, f in
            let raw = f.rawBytes
            let crcBytes = Array(raw.suffix(Frame.crcSize(flags: f.flags)))
            return Example(name: name, frame: f, raw: hex(raw), crc: hex(crcBytes), wire: hex(try f.encoded()))
        }
    }

    @Test func workedExamplesMatchTheSpec() throws {
        let ex = try Self.examples()
        if let p = getenvString("PNNWIRE_PRINT_EXAMPLES"), p == "1" {
            for e in ex { print("\(e.name)\n  raw:  \(e.raw)\n  crc:  \(e.crc)\n  wire: \(e.wire)") }
        }
        let expected: [String: (raw: String, wire: String)] = Self.documented
        for e in ex {
            guard let d = expected[e.name] else { continue }
            #expect(e.raw == d.raw, "\(e.name) raw")
            #expect(e.wire == d.wire, "\(e.name) wire")
        }
        #expect(expected.count == ex.count)
    }

    static let documented: [String: (raw: String, wire: String)] = [
        "ping request": ("01 02 01 00 00 00 2A 96 ED", "04 01 02 01 01 01 04 2A 96 ED 00"),
        "ping reply": ("01 02 01 00 02 00 2A F6 83", "04 01 02 01 02 02 04 2A F6 83 00"),
        "hello request": ("01 01 00 00 00 01 03 00 6C 61 62 84 52", "03 01 01 01 01 03 01 03 06 6C 61 62 84 52 00"),
        "hello reply": (
            "01 01 00 00 02 01 CD AB 34 12 08 00 63 72 6F 73 73 62 61 72 03 00 65 6D 75 04 00 30 30 30 31 03 00 31 2E 30 "
                + "00 00 00 80 00 00 51 CB",
            "03 01 01 01 08 02 01 CD AB 34 12 08 0A 63 72 6F 73 73 62 61 72 03 05 65 6D 75 04 06 30 30 30 31 03 04 31 2E 30 "
                + "01 01 02 80 01 03 51 CB 00"
        ),
        "error reply": ("01 03 05 00 06 03 00 56 3E 35 B7 24", "04 01 03 05 03 06 03 06 56 3E 35 B7 24 00"),
        "bulk chunk": (
            "01 05 02 00 01 00 00 00 00 04 00 00 00 01 00 DE AD BE EF 66 6C B8 1B",
            "04 01 05 02 02 01 01 01 01 02 04 01 01 02 01 09 DE AD BE EF 66 6C B8 1B 00"
        ),
    ]
}

#if canImport(Glibc)
    import Glibc
#endif
func getenvString(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
