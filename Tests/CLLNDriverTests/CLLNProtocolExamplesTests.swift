import CLLNDriver
import Foundation
import PNNCore
import PNNSim
import Testing

@testable import PNNLink
@testable import PNNWire

/// The CLLN worked examples of docs/protocol.md §14, asserted byte for byte so the document
/// stays true to the code. Set PNNWIRE_PRINT_EXAMPLES=1 to print them.
@Suite struct CLLNProtocolExamples {
    enum Payloads {
        /// `learn` for 100 µs.
        static var learnRequest: [UInt8] {
            var w = PayloadWriter()
            w.f64(1e-4)
            return w.bytes
        }
        /// `setClamp`: mode clamped, η = 0.25, target 0.435 V (one output).
        static var setClampRequest: [UInt8] {
            var w = PayloadWriter()
            w.u8(ClampMode.clamped.rawValue)
            w.f64(0.25)
            w.f64(0.435)
            return w.bytes
        }
        /// `readGates` of edges 0 and 1.
        static var readGatesRequest: [UInt8] {
            var w = PayloadWriter()
            w.u16(0)
            w.u16(2)
            return w.bytes
        }
        /// G0 = 3 V, G1 = 2.5 V.
        static var readGatesReply: [UInt8] {
            var w = PayloadWriter()
            w.f64s([3, 2.5])
            return w.bytes
        }
    }

    struct Example {
        let name: String
        let frame: Frame
        var raw: String { hex(frame.rawBytes) }
        var crc: UInt16 {
            let raw = frame.rawBytes
            return UInt16(raw[raw.count - 2]) | UInt16(raw[raw.count - 1]) << 8
        }
        var wire: String { (try? hex(frame.encoded())) ?? "?" }
    }

    static var examples: [Example] {
        [
            Example(
                name: "learn request", frame: Frame(type: CLLNCommand.learn, seq: 6, flags: [], payload: Payloads.learnRequest)),
            Example(
                name: "setClamp request",
                frame: Frame(type: CLLNCommand.setClamp, seq: 7, flags: [], payload: Payloads.setClampRequest)),
            Example(
                name: "readGates request",
                frame: Frame(type: CLLNCommand.readGates, seq: 8, flags: [], payload: Payloads.readGatesRequest)),
            Example(
                name: "readGates reply",
                frame: Frame(type: CLLNCommand.readGates, seq: 8, flags: .reply, payload: Payloads.readGatesReply)),
        ]
    }

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

    @Test func workedExamplesMatchTheSpec() throws {
        let examples = Self.examples
        if ProcessInfo.processInfo.environment["PNNWIRE_PRINT_EXAMPLES"] == "1" {
            print(String(format: "schemaHash 0x%08X", CLLNCommand.schemaHash))
            for e in examples {
                print("\(e.name)\n  raw:  \(e.raw)\n  crc:  \(String(format: "0x%04X", e.crc))\n  wire: \(e.wire)")
            }
        }
        #expect(examples.count == Self.documented.count)
        for e in examples {
            let d = try #require(Self.documented[e.name], "\(e.name) is not documented")
            #expect(e.raw == d.raw, "\(e.name) frame bytes")
            #expect(e.crc == d.crc, "\(e.name) CRC")
            #expect(CRC16.checksum(Array(e.frame.rawBytes.dropLast(2))) == d.crc, "\(e.name) CRC-16")
            #expect(e.wire == d.wire, "\(e.name) wire bytes")
        }
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
        #expect(try await emulator.handle(CLLNCommand.readGates, payload: Payloads.readGatesRequest, push: push).count == 16)
        #expect(try await emulator.handle(CLLNCommand.learn, payload: Payloads.learnRequest, push: push).isEmpty)
        #expect(try await emulator.handle(CLLNCommand.setClamp, payload: Payloads.setClampRequest, push: push).isEmpty)
        // η = 2 is refused as outOfRange and counted.
        var bad = Payloads.setClampRequest
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
