import CLLNDriver
import Foundation
import PNNCore
import PNNSim
import PNNTransport
import Testing

@testable import PNNLink
@testable import PNNWire

/// The CLLN worked examples of docs/protocol.md §14, asserted byte for byte against the
/// host's own code so the document stays true to it: the driver (`CLLNBoard`) runs over a
/// scripted link whose exchanges are the documented wire bytes (learn, setClamp, readGates
/// at seq 6, 7, 8), so the requests it builds must equal them and the documented reply
/// must decode to the documented gate voltages. Set PNNWIRE_PRINT_EXAMPLES=1 to print them.
@Suite struct CLLNProtocolExamples {
    /// As printed in docs/protocol.md §14.6: frame bytes, CRC-16, wire bytes.
    static let documented: [String: (raw: String, crc: UInt16, wire: String)] = [
        "learn request": (
            "01 57 06 00 00 2D 43 1C EB E2 36 1A 3F B5 A5", 0xA5B5,
            "04 01 57 06 01 0B 2D 43 1C EB E2 36 1A 3F B5 A5 00"
        ),
        "setClamp request": (
            "01 53 07 00 00 01 00 00 00 00 00 00 D0 3F D7 A3 70 3D 0A D7 DB 3F 4F FD", 0xFD4F,
            "04 01 53 07 01 02 01 01 01 01 01 01 0D D0 3F D7 A3 70 3D 0A D7 DB 3F 4F FD 00"
        ),
        "readGates request": ("01 55 08 00 00 00 00 02 00 44 85", 0x8544, "04 01 55 08 01 01 01 02 02 03 44 85 00"),
        "readGates reply": (
            "01 55 08 00 02 00 00 00 00 00 00 08 40 00 00 00 00 00 00 04 40 06 F7", 0xF706,
            "04 01 55 08 02 02 01 01 01 01 01 03 08 40 01 01 01 01 01 05 04 40 06 F7 00"
        ),
    ]

    /// A documented example's wire bytes.
    static func wire(_ name: String) throws -> [UInt8] {
        let d = try #require(documented[name], "\(name) is not documented")
        return try #require(ScriptedTransport.bytes(hex: d.wire))
    }

    /// A documented example, decoded by the host's frame decoder.
    static func frame(_ name: String) throws -> Frame { try Frame.decode(wire: try wire(name)) }

    @Test func documentedBytesAreConsistent() throws {
        #expect(Self.documented.count == 4)
        for (name, d) in Self.documented {
            let wire = try Self.wire(name)
            let raw = try #require(ScriptedTransport.bytes(hex: d.raw))
            #expect(try COBS.decode(Array(wire.dropLast())) == raw, "\(name): wire = COBS(frame) + 00")
            #expect(CRC16.checksum(Array(raw.dropLast(2))) == d.crc, "\(name) CRC-16")
            #expect(UInt16(raw[raw.count - 2]) | UInt16(raw[raw.count - 1]) << 8 == d.crc, "\(name) CRC trailer")
        }
    }

    /// The driver sends learn (100 µs), setClamp (clamped, η 0.25, target 0.435 V) and a
    /// gate read-back at seq 6, 7, 8, exactly as documented. The board is the 2+1-edge
    /// network (2 trainable edges, so the driver's read-back of every gate is "first 0, n 2";
    /// the other two requests do not depend on the board).
    @Test func hostSendsTheDocumentedRequestsAndDecodesTheReply() async throws {
        let emulator = try CLLNEmulator(
            state: CLLNState(topology: .twoPlusOne, physics: .ideal, seed: 1), serial: "DOC")
        var offset = PayloadWriter()
        offset.u32(0)
        let page = try await emulator.handle(CLLNCommand.topology, payload: offset.bytes, push: StreamPusher(send: { _, _ in }))
        let script = ScriptedTransport(
            [
                Script.hello(emulator.hello, seq: 4),
                Script.exchange("topology, seq 5", CLLNCommand.topology, seq: 5, payload: offset.bytes, reply: page),
                ScriptedTransport.Exchange(
                    "learn, seq 6 (§14.6)", request: try Self.wire("learn request"),
                    replies: [Frame(type: CLLNCommand.learn, seq: 6, flags: .reply)].map(Script.wire)),
                ScriptedTransport.Exchange(
                    "setClamp, seq 7 (§14.6)", request: try Self.wire("setClamp request"),
                    replies: [Frame(type: CLLNCommand.setClamp, seq: 7, flags: .reply)].map(Script.wire)),
                ScriptedTransport.Exchange(
                    "readGates, seq 8 (§14.6)", request: try Self.wire("readGates request"),
                    replies: [try Self.wire("readGates reply")]),
            ], describe: Script.describe)
        let connection = try await LinkConnection.scripted(
            script, family: CLLNFamily.family, schemaHash: CLLNCommand.schemaHash, configuration: .init(firstSeq: 4))
        let board = try await CLLNBoard(connection: connection)
        try await board.uncheckedLearn(seconds: 1e-4)
        try await board.uncheckedSetClamp(ClampSetting(mode: .clamped, targets: [0.435], eta: 0.25))
        #expect(try await board.readParameters() == [3, 2.5])
        try script.verify()
        if ProcessInfo.processInfo.environment["PNNWIRE_PRINT_EXAMPLES"] == "1" {
            print(String(format: "schemaHash 0x%08X", CLLNCommand.schemaHash))
            for name in Self.documented.keys.sorted() {
                let f = try Self.frame(name)
                print("\(name)\n  raw:  \(hex(f.rawBytes))\n  wire: \(hex(try f.encoded()))")
            }
        }
        await board.close()
    }

    @Test func workedExamplesAppearInTheDocument() throws {
        let section = try Self.section14()
        let docBytes = section.replacingOccurrences(of: "|", with: " ").split(whereSeparator: \.isWhitespace)
            .joined(separator: " ")
        for (name, d) in Self.documented {
            #expect(section.contains(String(format: "CRC-16 = 0x%04X", d.crc)), "\(name) CRC")
            #expect(docBytes.contains("wire: " + d.wire), "\(name) wire bytes")
            #expect(docBytes.contains("frame: " + d.raw), "\(name) frame bytes")
        }
    }

    @Test func schemaHashAndTextMatchTheDocument() throws {
        let section = try Self.section14()
        let start = try #require(section.range(of: "Schema hash: 0x"), "no schema hash in §14")
        #expect(UInt32(section[start.upperBound...].prefix(8), radix: 16) == CLLNCommand.schemaHash)
        #expect(CLLNCommand.schemaHash == CRC32.checksum(Array(CLLNCommand.schemaText.utf8)))
        let open = try #require(section.range(of: "```text\n"))
        let close = try #require(section.range(of: "\n```", range: open.upperBound..<section.endIndex))
        #expect(String(section[open.upperBound..<close.lowerBound]) == CLLNCommand.schemaText)
        for (type, name) in CLLNCommand.all {
            #expect(section.contains("| 0x\(String(type.rawValue, radix: 16, uppercase: true)) | \(name) |"), "\(name) row")
        }
    }

    @Test func emulatorAnswersTheWorkedRequestsAsDocumented() async throws {
        let emulator = try CLLNEmulator(state: CLLNState(topology: .periodicLattice(), physics: .ideal, seed: 1), serial: "DOC")
        let push = StreamPusher(send: { _, _ in })
        #expect(emulator.hello.descriptor.count == 96)
        #expect(emulator.hello.capabilities == 0x8000_000F)
        _ = try await emulator.handle(CLLNCommand.resetGates, payload: [0, 0, 0, 0, 0, 0, 8, 0x40], push: push)
        let readGates = try Self.frame("readGates request").payload
        let learn = try Self.frame("learn request").payload
        let setClamp = try Self.frame("setClamp request").payload
        #expect(try await emulator.handle(CLLNCommand.readGates, payload: readGates, push: push).count == 16)
        #expect(try await emulator.handle(CLLNCommand.learn, payload: learn, push: push).isEmpty)
        #expect(try await emulator.handle(CLLNCommand.setClamp, payload: setClamp, push: push).isEmpty)
        // η = 2 is refused as outOfRange and counted.
        var bad = setClamp
        bad.replaceSubrange(1..<9, with: [0, 0, 0, 0, 0, 0, 0, 0x40])
        await #expect(
            throws: ErrorReply(code: .outOfRange, message: "refused: nudge amplitude η = 2.0 must be finite with |η| ≤ 1")
        ) {
            _ = try await emulator.handle(CLLNCommand.setClamp, payload: bad, push: push)
        }
        let status = try CLLNStatus.decode(try await emulator.handle(CLLNCommand.identify, payload: [], push: push))
        #expect(status.violations == 1 && status.learns == 1)
        #expect(status.encode().count == 30)
    }

    /// §14 of docs/protocol.md, found relative to this file.
    static func section14() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/protocol.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let start = try #require(text.range(of: "## 14. CLLN command set"))
        return String(text[start.lowerBound...])
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02X", $0) }.joined(separator: " ")
}
