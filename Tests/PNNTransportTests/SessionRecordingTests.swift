import Foundation
import Testing

@testable import PNNTransport

/// Session recordings: what RecordingTransport writes (format of docs/protocol.md, "Session
/// recordings"), how it parses, and how SessionReplay serves it back and catches a host
/// that sends anything else.
@Suite struct SessionRecordingTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pnnrec-\(UUID().uuidString).pnnrec").path
    }

    /// One session: the host flushes, sends two frames (in odd write sizes), the device
    /// answers each, the host closes.
    @discardableResult
    static func recordOneSession(to path: String) async throws -> String {
        let recorder = try SessionRecorder(path: path)
        let (host, device) = MemoryLink.pair(seed: 1)
        let link = RecordingTransport(host, recorder: recorder)
        try await link.write([0x00])
        try await link.write([0x02, 0x11, 0x01])
        try await link.write([0x00, 0x02, 0x22, 0x00])
        #expect(await readAll(device, count: 8) == [0x00, 0x02, 0x11, 0x01, 0x00, 0x02, 0x22, 0x00])
        try await device.write([0x02, 0xA1, 0x00, 0x02])
        try await device.write([0xA2, 0x00])
        #expect(await readAll(link, count: 6) == [0x02, 0xA1, 0x00, 0x02, 0xA2, 0x00])
        await link.close()
        return host.description
    }

    @Test func writesOneLinePerFrameWithTimes() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let d = try await Self.recordOneSession(to: path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.first == "# pnnlab session recording v1")
        #expect(lines[1].hasPrefix("# started 20") && lines[1].hasSuffix("Z"))
        let events = lines.dropFirst(2).map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
        #expect(
            events.map { $0[1] } == ["open \(d)", "> 00", "> 02 11 01 00", "> 02 22 00", "< 02 A1 00", "< 02 A2 00", "close"])
        let times = events.map { Double($0[0]) ?? -1 }
        #expect(times.allSatisfy { $0 >= 0 } && times == times.sorted(), "monotonic seconds: \(times)")
        #expect(events.allSatisfy { $0[0].split(separator: ".").last?.count == 6 }, "microseconds")

        let recording = try SessionRecording(path: path)
        #expect(recording.sessions.count == 1)
        #expect(
            recording.sessions[0].map(\.kind) == [
                .open(d), .sent([0]), .sent([2, 0x11, 1, 0]), .sent([2, 0x22, 0]),
                .received([2, 0xA1, 0]), .received([2, 0xA2, 0]), .close,
            ])
        #expect(recording.sessions[0].map(\.line) == Array(3...9))
    }

    @Test func replayServesTheRecordedAnswersAndChecksTheHost() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let d = try await Self.recordOneSession(to: path)

        // The same host behaviour replays cleanly, whatever the write sizes. Both answers
        // were recorded after the second request, so they come after it.
        let replay = try SessionReplay(path: path)
        let link = try replay.open()
        #expect(link.description == "replay of \(d) from \(path)")
        try await link.write([0x00, 0x02, 0x11, 0x01, 0x00])
        await #expect(throws: TransportError.timeout(.zero)) { _ = try await link.read(maxCount: 16, timeout: .zero) }
        #expect(throws: RecordingError.self) { try replay.verify() }  // one frame still to come
        try await link.write([0x02, 0x22])
        try await link.write([0x00])
        #expect(await readAll(link, count: 6) == [0x02, 0xA1, 0x00, 0x02, 0xA2, 0x00])
        try replay.verify()
        #expect(throws: RecordingError.noMoreSessions(path: path, recorded: 1)) { _ = try replay.open() }

        // A host that sends something else fails, naming the recording's line.
        let other = try SessionReplay(path: path)
        let link2 = try other.open()
        try await link2.write([0x02, 0x11, 0x01, 0x00])
        await #expect(throws: TransportError.self) { try await link2.write([0x02, 0x23, 0x00]) }
        let error = #expect(throws: RecordingError.self) { try other.verify() }
        let text = error?.description ?? ""
        #expect(text.contains("replay of \(path), session 1: scripted exchange 2 of 2 (\(path):6, t = "), "\(text)")
        #expect(text.contains("expected: 02 22 00") && text.contains("got:      02 23 00"), "\(text)")
    }

    @Test func aDroppedLinkIsRecordedAndReplayedAsAHangUp() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let recorder = try SessionRecorder(path: path)
        let (host1, device1) = MemoryLink.pair(seed: 2)
        let first = RecordingTransport(host1, recorder: recorder)
        try await first.write([0x05, 0x00])
        _ = await readAll(device1, count: 2)
        try await device1.write([0x06, 0x00])
        #expect(await readAll(first, count: 2) == [0x06, 0x00])
        await device1.disconnect()
        await #expect(throws: TransportError.closed("device unplugged")) {
            _ = try await first.read(maxCount: 8, timeout: .seconds(5))
        }
        await first.close()  // after an end, no separate close line
        let (host2, _) = MemoryLink.pair(seed: 3)
        let second = RecordingTransport(host2, recorder: recorder)
        try await second.write([0x07])  // no delimiter before the close
        await second.close()

        let recording = try SessionRecording(path: path)
        #expect(recording.sessions.count == 2)
        #expect(recording.sessions[0].map(\.kind).dropFirst() == [.sent([5, 0]), .received([6, 0]), .end("device unplugged")])
        #expect(recording.sessions[1].map(\.kind).dropFirst() == [.sent([7]), .close])

        let replay = SessionReplay(recording, path: path)
        let link = try replay.open()
        try await link.write([0x05, 0x00])
        #expect(try await link.read(maxCount: 8, timeout: .seconds(5)) == [0x06, 0x00])
        await #expect(throws: TransportError.closed("device unplugged")) {
            _ = try await link.read(maxCount: 8, timeout: .seconds(5))
        }
        #expect(throws: RecordingError.unreplayed(path: path, session: 2, of: 2)) { try replay.verify() }
    }

    @Test func malformedRecordingsAreRefusedWithTheirLine() {
        #expect(
            throws: RecordingError.malformed(
                path: "x", line: 1, reason: "not a pnnlab session recording (expected '# pnnlab session recording v1')")
        ) {
            _ = try SessionRecording(text: "hello\n", path: "x")
        }
        let header = SessionRecorder.magic + "\n"
        #expect(throws: RecordingError.malformed(path: "x", line: 2, reason: "an event before the first 'open'")) {
            _ = try SessionRecording(text: header + "0.1 > 00\n", path: "x")
        }
        #expect(throws: RecordingError.malformed(path: "x", line: 3, reason: "expected hex bytes of one frame")) {
            _ = try SessionRecording(text: header + "0 open a\n0.1 > 0G\n", path: "x")
        }
        #expect(throws: RecordingError.malformed(path: "x", line: 3, reason: "unknown event 'sent'")) {
            _ = try SessionRecording(text: header + "0 open a\n0.1 sent 00\n", path: "x")
        }
        #expect(throws: RecordingError.malformed(path: "x", line: 2, reason: "expected 'SECONDS KIND [DATA]'")) {
            _ = try SessionRecording(text: header + "later open a\n", path: "x")
        }
        #expect(throws: RecordingError.self) { _ = try SessionRecording(path: "/nonexistent/dir/file.pnnrec") }
        #expect(throws: RecordingError.self) { _ = try SessionRecorder(path: "/nonexistent/dir/file.pnnrec") }
    }
}
