import Foundation
import PNNCore
import PNNSim
import PNNTransport
import Testing

@testable import CrossbarDriver
@testable import PNNLink
@testable import PNNWire

/// The crossbar worked examples of docs/protocol.md §13, asserted byte for byte against the
/// host's own code so the document stays true to it: the driver (`CrossbarBoard`) runs over
/// a scripted link whose exchanges are the documented wire bytes, so the requests it builds
/// must equal them and the documented replies must decode to the documented values; the
/// `read` example, which the driver never sends as such, goes through the driver's `read`
/// encoder. Set PNNWIRE_PRINT_EXAMPLES=1 to print the frames the host sent.
@Suite struct CrossbarProtocolExamples {
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
            "01 48 09 00 02 00 00 00 00 00 00 F8 3F 00 00 00 00 00 00 D0 BF 00 00 3B A5", 0xA53B,
            "04 01 48 09 02 02 01 01 01 01 01 03 F8 3F 01 01 01 01 01 03 D0 BF 01 03 3B A5 00"
        ),
    ]

    /// A documented example's wire bytes.
    static func wire(_ name: String) throws -> [UInt8] {
        let d = try #require(documented[name], "\(name) is not documented")
        return try #require(ScriptedTransport.bytes(hex: d.wire))
    }

    /// A documented example, decoded by the host's frame decoder.
    static func frame(_ name: String) throws -> Frame { try Frame.decode(wire: try wire(name)) }

    /// The board of the examples: 4 rows × 2 outputs (physical columns 0…3, parameters 0…15).
    static func hello() throws -> HelloReply {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 2
        return CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "DOC").hello
    }

    /// The driver on a scripted link whose session starts (hello) at `firstSeq`.
    static func board(firstSeq: UInt16, _ exchanges: [ScriptedTransport.Exchange]) async throws
        -> (CrossbarBoard, ScriptedTransport)
    {
        let script = ScriptedTransport(
            [Script.hello(try hello(), seq: firstSeq)] + exchanges, describe: Script.describe)
        let connection = try await LinkConnection.scripted(
            script, family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash,
            configuration: .init(firstSeq: firstSeq))
        return (try CrossbarBoard(connection: connection), script)
    }

    static func printIfAsked(_ name: String, _ frame: Frame) {
        guard ProcessInfo.processInfo.environment["PNNWIRE_PRINT_EXAMPLES"] == "1" else { return }
        let raw = frame.rawBytes
        let crc = UInt16(raw[raw.count - 2]) | UInt16(raw[raw.count - 1]) << 8
        print(
            "\(name)\n  raw:  \(hex(raw))\n  crc:  \(String(format: "0x%04X", crc))\n  wire: \((try? hex(frame.encoded())) ?? "?")"
        )
    }

    @Test func documentedBytesAreConsistent() throws {
        #expect(Self.documented.count == 6)
        for (name, d) in Self.documented {
            let wire = try Self.wire(name)
            let raw = try #require(ScriptedTransport.bytes(hex: d.raw))
            #expect(try COBS.decode(Array(wire.dropLast())) == raw, "\(name): wire = COBS(frame) + 00")
            #expect(CRC16.checksum(Array(raw.dropLast(2))) == d.crc, "\(name) CRC-16")
            #expect(UInt16(raw[raw.count - 2]) | UInt16(raw[raw.count - 1]) << 8 == d.crc, "\(name) CRC trailer")
        }
    }

    @Test func hostSendsTheDocumentedIdentifyAndDecodesItsReply() async throws {
        let (board, script) = try await Self.board(
            firstSeq: 2,
            [
                ScriptedTransport.Exchange(
                    "identify, seq 3 (§13.6)", request: try Self.wire("identify request"),
                    replies: [try Self.wire("identify reply")])
            ])
        let status = try await board.status()
        #expect(status == CrossbarStatus(violations: 0, pulses: 1200, verifies: 40, vectors: 5000, queued: 0, safe: true))
        try script.verify()
        Self.printIfAsked("identify request", try Self.frame("identify request"))
        // The device side encodes the same status to the documented payload.
        #expect(status.encode() == (try Self.frame("identify reply").payload))
        await board.close()
    }

    @Test func hostSendsTheDocumentedProbeAndDecodesItsReply() async throws {
        let v = [0.1, 0.2, -0.1, 0.05]
        let (board, script) = try await Self.board(
            firstSeq: 7,
            [
                Script.exchange(
                    "loadInputs, seq 8", CrossbarCommand.loadInputs, seq: 8,
                    payload: Bytes().u8(0).u16(1).u16(0).u16(1).f64s(v).bytes, reply: Bytes().u16(1).bytes),
                ScriptedTransport.Exchange(
                    "probe, seq 9 (§13.6)", request: try Self.wire("probe request"), replies: [try Self.wire("probe reply")]),
            ])
        var results: [ProbeResult] = []
        for try await r in board.uncheckedStream([
            Probe(id: 1, changes: [ParameterChange(index: 5, value: 10)], inputs: Matrix(rows: 1, cols: 4, storage: v))
        ]) {
            results.append(r)
        }
        #expect(results.count == 1)
        #expect(results.first?.outputs == Matrix(rows: 1, cols: 2, storage: [1.5, -0.25]))
        #expect(await board.saturatedReadings() == 0)
        try script.verify()
        Self.printIfAsked("probe request", try Self.frame("probe request"))
        await board.close()
    }

    @Test func hostEncodesTheDocumentedReadAndDecodesItsReply() throws {
        // The driver's read encoder (its read-back uses it for whole rows), for device
        // (row 2, column 3) at 0.15 V, framed at seq 4 by the host's frame encoder.
        let request = Frame(
            type: CrossbarCommand.read, seq: 4,
            payload: CrossbarBoard.readRequest(row0: 2, rows: 1, col0: 3, cols: 1, vRead: 0.15))
        #expect(try request.encoded() == (try Self.wire("read request")))
        #expect(request.rawBytes == ScriptedTransport.bytes(hex: Self.documented["read request"]!.raw))
        let reply = try Self.frame("read reply")
        #expect(reply.seq == 4 && reply.flags == .reply && reply.type == CrossbarCommand.read)
        #expect(try ReplyPayload.doubles(reply.payload, count: 1, request: "read") == [12.5])
        Self.printIfAsked("read request", request)
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
        let read = try await emulator.handle(CrossbarCommand.read, payload: try Self.frame("read request").payload, push: push)
        #expect(read.count == 8)
        var r = PayloadReader(read)
        let g11 = try r.f64("g")
        #expect(g11 >= g.gMin && g11 <= g.gMax)
        #expect(2 * g.columns + 3 == 11)

        // probe before any loadInputs: slotEmpty.
        await #expect(throws: ErrorReply.self) {
            _ = try await emulator.handle(CrossbarCommand.probe, payload: try Self.frame("probe request").payload, push: push)
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

        // probe: total·outputs = 2 currents and the saturation count, 18 bytes, equal to
        // I = V·(G+ − G−) with p5 = 10 µS, none saturated; the device is restored afterwards.
        let before = await emulator.trueConductances()
        let reply = try await emulator.handle(CrossbarCommand.probe, payload: try Self.frame("probe request").payload, push: push)
        #expect(reply.count == 18)
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
        #expect(try rr.u16("saturated") == 0)
        #expect(await emulator.trueConductances() == before)

        // Safety: a read at 0.5 V > vReadMax is refused as outOfRange and counted.
        do {
            let tooHigh = CrossbarBoard.readRequest(row0: 2, rows: 1, col0: 3, cols: 1, vRead: 0.5)
            _ = try await emulator.handle(CrossbarCommand.read, payload: tooHigh, push: push)
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
