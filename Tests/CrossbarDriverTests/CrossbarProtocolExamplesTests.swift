import CrossbarDriver
import Foundation
import PNNSim
import Testing

@testable import PNNLink
@testable import PNNWire

/// The crossbar worked examples of docs/protocol.md §13, asserted byte for byte so the
/// document stays true to the code. Set PNNWIRE_PRINT_EXAMPLES=1 to print them.
@Suite struct CrossbarProtocolExamples {
    /// Request/reply payloads of the worked examples (a 4-row × 2-output board).
    enum Payloads {
        static var identifyReply: [UInt8] {
            CrossbarStatus(violations: 0, pulses: 1200, verifies: 40, vectors: 5000, queued: 0, safe: true).encode()
        }

        /// `read` of device (row 2, column 3) at 0.15 V.
        static var readRequest: [UInt8] { readRequest(vRead: 0.15) }
        static func readRequest(vRead: Double) -> [UInt8] {
            var w = PayloadWriter()
            w.u16(2)
            w.u16(1)
            w.u16(3)
            w.u16(1)
            w.f64(vRead)
            return w.bytes
        }
        static var readReply: [UInt8] {
            var w = PayloadWriter()
            w.f64(12.5)
            return w.bytes
        }

        /// `probe` of slot 0, 1 repeat, parameter 5 → 10 µS.
        static var probeRequest: [UInt8] {
            var w = PayloadWriter()
            w.u8(0)
            w.u16(1)
            w.u16(1)
            w.u32(5)
            w.f64(10)
            return w.bytes
        }
        /// One vector, two outputs: 1.5 µA and −0.25 µA.
        static var probeReply: [UInt8] {
            var w = PayloadWriter()
            w.f64s([1.5, -0.25])
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
            Example(name: "identify request", frame: Frame(type: CrossbarCommand.identify, seq: 3, flags: [], payload: [])),
            Example(
                name: "identify reply",
                frame: Frame(type: CrossbarCommand.identify, seq: 3, flags: .reply, payload: Payloads.identifyReply)),
            Example(
                name: "read request",
                frame: Frame(type: CrossbarCommand.read, seq: 4, flags: [], payload: Payloads.readRequest)),
            Example(
                name: "read reply",
                frame: Frame(type: CrossbarCommand.read, seq: 4, flags: .reply, payload: Payloads.readReply)),
            Example(
                name: "probe request",
                frame: Frame(type: CrossbarCommand.probe, seq: 9, flags: [], payload: Payloads.probeRequest)),
            Example(
                name: "probe reply",
                frame: Frame(type: CrossbarCommand.probe, seq: 9, flags: .reply, payload: Payloads.probeReply)),
        ]
    }

    /// As printed in docs/protocol.md §13.6: frame bytes, CRC-16, wire bytes.
    static let documented: [String: (raw: String, crc: UInt16, wire: String)] = [
        "identify request": ("01 40 03 00 00 91 8C", 0x8C91, "04 01 40 03 01 03 91 8C 00"),
        "identify reply": (
            "01 40 03 00 02 00 00 00 00 B0 04 00 00 28 00 00 00 88 13 00 00 00 00 00 00 00 00 00 00 01 0A 8C", 0x8C0A,
            "04 01 40 03 02 02 01 01 01 03 B0 04 01 02 28 01 01 03 88 13 01 01 01 01 01 01 01 01 01 04 01 0A 8C 00"
        ),
        "read request": (
            "01 42 04 00 00 02 00 01 00 03 00 01 00 33 33 33 33 33 33 C3 3F 64 8E", 0x8E64,
            "04 01 42 04 01 02 02 02 01 02 03 02 01 0B 33 33 33 33 33 33 C3 3F 64 8E 00"
        ),
        "read reply": (
            "01 42 04 00 02 00 00 00 00 00 00 29 40 5F D5", 0xD55F, "04 01 42 04 02 02 01 01 01 01 01 05 29 40 5F D5 00"
        ),
        "probe request": (
            "01 48 09 00 00 00 01 00 01 00 05 00 00 00 00 00 00 00 00 00 24 40 64 F1", 0xF164,
            "04 01 48 09 01 01 02 01 02 01 02 05 01 01 01 01 01 01 01 01 05 24 40 64 F1 00"
        ),
        "probe reply": (
            "01 48 09 00 02 00 00 00 00 00 00 F8 3F 00 00 00 00 00 00 D0 BF A5 D3", 0xD3A5,
            "04 01 48 09 02 02 01 01 01 01 01 03 F8 3F 01 01 01 01 01 05 D0 BF A5 D3 00"
        ),
    ]

    @Test func workedExamplesMatchTheSpec() throws {
        let examples = Self.examples
        if ProcessInfo.processInfo.environment["PNNWIRE_PRINT_EXAMPLES"] == "1" {
            print(String(format: "schemaHash 0x%08X", CrossbarCommand.schemaHash))
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
        let section = try Self.section13()
        for (name, d) in Self.documented {
            #expect(section.contains(String(format: "CRC-16 = 0x%04X", d.crc)), "\(name) CRC")
            // The document wraps long lines and separates fields with "|".
            let docBytes = section.replacingOccurrences(of: "|", with: " ").split(whereSeparator: \.isWhitespace)
                .joined(separator: " ")
            #expect(docBytes.contains("wire: " + d.wire), "\(name) wire bytes")
            #expect(docBytes.contains("frame: " + d.raw), "\(name) frame bytes")
        }
    }

    @Test func schemaHashAndTextMatchTheDocument() throws {
        let section = try Self.section13()
        let marker = "Schema hash: 0x"
        let start = try #require(section.range(of: marker), "no '\(marker)' in §13")
        let digits = section[start.upperBound...].prefix(8)
        #expect(UInt32(digits, radix: 16) == CrossbarCommand.schemaHash)
        #expect(CrossbarCommand.schemaHash == CRC32.checksum(Array(CrossbarCommand.schemaText.utf8)))
        let open = try #require(section.range(of: "```text\n"))
        let close = try #require(section.range(of: "\n```", range: open.upperBound..<section.endIndex))
        #expect(String(section[open.upperBound..<close.lowerBound]) == CrossbarCommand.schemaText)
        #expect(CrossbarCommand.schemaText.split(separator: "\n").count == 16)
    }

    @Test func descriptorLayoutMatchesTheTable() throws {
        var config = CrossbarConfig.ideal
        config.rows = 16
        config.outputs = 4
        let g = CrossbarGeometry(config: config)
        let bytes = g.encode()
        #expect(bytes.count == 88)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func f64(_ at: Int) -> Double {
            var bits: UInt64 = 0
            for b in 0..<8 { bits |= UInt64(bytes[at + b]) << (8 * b) }
            return Double(bitPattern: bits)
        }
        #expect(u16(0) == 16 && u16(2) == 4)
        #expect(f64(4) == g.gMin && f64(12) == g.gMax && f64(20) == g.tolerance && f64(28) == g.vReadMax)
        #expect(f64(36) == g.dacStep && f64(44) == g.fullScale && f64(52) == g.adcStep)
        #expect(f64(60) == 3 && f64(68) == 10 && f64(76) == 1_000_000)
        #expect(u16(84) == 31 && u16(86) == 338)
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "DOC")
        #expect(emulator.hello.capabilities == 0x8000_0028)
        #expect(emulator.hello.schemaHash == CrossbarCommand.schemaHash)
    }

    @Test func emulatorAnswersTheWorkedRequestsAsDocumented() async throws {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 2
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "DOC")
        let g = emulator.geometry
        let push = StreamPusher(send: { _, _ in })

        // read: one f64 in the window.
        let read = try await emulator.handle(CrossbarCommand.read, payload: Payloads.readRequest, push: push)
        #expect(read.count == 8)
        var r = PayloadReader(read)
        let g11 = try r.f64("g")
        #expect(g11 >= g.gMin && g11 <= g.gMax)
        #expect(2 * g.columns + 3 == 11)

        // probe before any loadInputs: slotEmpty.
        await #expect(throws: ErrorReply.self) {
            _ = try await emulator.handle(CrossbarCommand.probe, payload: Payloads.probeRequest, push: push)
        }

        // loadInputs slot 0, total 1, first 0, n 1 → held 1.
        let v = [0.1, 0.2, -0.1, 0.05]
        var w = PayloadWriter()
        w.u8(0)
        w.u16(1)
        w.u16(0)
        w.u16(1)
        w.f64s(v)
        #expect(try await emulator.handle(CrossbarCommand.loadInputs, payload: w.bytes, push: push) == [0x01, 0x00])

        // probe: total·outputs = 2 currents, 16 bytes, equal to I = V·(G+ − G−) with p5 = 10 µS;
        // the device is restored afterwards.
        let before = await emulator.trueConductances()
        let reply = try await emulator.handle(CrossbarCommand.probe, payload: Payloads.probeRequest, push: push)
        #expect(reply.count == 16)
        var probed = before
        probed[5] = 10
        var rr = PayloadReader(reply)
        for j in 0..<g.outputs {
            let i = try rr.f64("i")
            var expected = 0.0
            for row in 0..<g.rows {
                expected += v[row] * (probed[row * g.columns + 2 * j] - probed[row * g.columns + 2 * j + 1])
            }
            #expect(abs(i - expected) < 1e-9, "output \(j): \(i) vs \(expected)")
        }
        #expect(await emulator.trueConductances() == before)

        // Safety: a read at 0.5 V > vReadMax is refused as outOfRange and counted.
        do {
            _ = try await emulator.handle(CrossbarCommand.read, payload: Payloads.readRequest(vRead: 0.5), push: push)
            Issue.record("read at 0.5 V was accepted")
        } catch {
            #expect(error.code == .outOfRange)
        }
        let status = try CrossbarStatus.decode(
            try await emulator.handle(CrossbarCommand.identify, payload: [], push: push))
        #expect(status.violations == 1)
        #expect(try await emulator.handle(CrossbarCommand.identify, payload: [], push: push).count == 25)
    }

    /// §13 of docs/protocol.md, found relative to this file.
    static func section13() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/protocol.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let start = try #require(text.range(of: "## 13. Crossbar command set"))
        return String(text[start.lowerBound...])
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02X", $0) }.joined(separator: " ")
}
