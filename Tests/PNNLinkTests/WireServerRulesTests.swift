import PNNLink
import PNNTransport
import PNNWire
import Testing

/// A board whose only command answers `count` bytes: to see what the server does with a
/// reply that would not fit a control frame.
actor LargeReplyBoard: DeviceEndpoint {
    nonisolated let hello = HelloReply(
        schemaHash: 1, family: "test", model: "large", serial: "L-1", firmware: "1", capabilities: 0, descriptor: [])

    func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        var r = PayloadReader(payload)
        let count = Int((try? r.u16("count")) ?? 0)
        return [UInt8](repeating: 0x5A, count: count)
    }

    func sessionReset() async {}
}

/// docs/protocol.md §3 and §7 rules the device side must follow, checked on the reference
/// server frame by frame: non-requests, the bulk flag's scope, no oversize replies, hello
/// edge cases.
@Suite struct WireServerRulesTests {
    /// Sends `frame` as is (valid COBS and CRC, whatever its flags and size).
    func send(_ frame: Frame, on link: MemoryLink) async throws {
        var out = COBS.encode(frame.rawBytes)
        out.append(0)
        try await link.write(out)
    }

    func expectError(_ f: Frame, seq: UInt16, _ code: WireErrorCode) throws {
        #expect(f.seq == seq && f.type == .error && f.flags == [.reply, .error], "\(f)")
        #expect(try ErrorReply.decode(f.payload).code == code)
        #expect(f.rawBytes.count <= FrameLimits.standard.maxControlFrame)
    }

    func openSession(_ link: MemoryLink, _ raw: RawDevice) async throws {
        try await send(Frame(type: .hello, seq: 0, payload: try HelloRequest(hostName: "t").encode()), on: link)
        let hello = try await raw.nextFrame(timeout: .seconds(120))
        #expect(hello.type == .hello && hello.flags == .reply)
    }

    @Test func framesThatAreNotRequestsGetNoReplyAndAreCounted() async throws {
        let served = ServedBoard.start(TestBoard())
        defer { Task { await served.stop() } }
        let raw = RawDevice(served.host)
        try await openSession(served.host, raw)
        try await send(Frame(type: .ping, seq: 1, flags: .reply, payload: [1]), on: served.host)
        try await send(Frame(type: .ping, seq: 2, flags: .stream, payload: [2]), on: served.host)
        try await send(Frame(type: .error, seq: 3, flags: [.reply, .error], payload: [0, 0]), on: served.host)
        try await send(Frame(type: .ping, seq: 4, payload: [4]), on: served.host)
        let next = try await raw.nextFrame(timeout: .seconds(120))
        #expect(next.seq == 4 && next.type == .ping && next.payload == [4], "only the real request was answered: \(next)")
        #expect(await served.server.statistics.notRequests == 3)
    }

    @Test func theBulkFlagIsOnlyForBulkChunks() async throws {
        let served = ServedBoard.start(TestBoard())
        defer { Task { await served.stop() } }
        let raw = RawDevice(served.host)
        try await openSession(served.host, raw)
        // The 4090-byte bulk ping once came back as a 4097-byte control frame.
        try await send(Frame(type: .ping, seq: 5, flags: .bulk, payload: [UInt8](repeating: 1, count: 4090)), on: served.host)
        try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: 5, .badPayload)
        try await send(Frame(type: .bulkChunk, seq: 6, payload: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), on: served.host)
        try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: 6, .badPayload)
        try await send(Frame(type: echo, seq: 7, flags: .bulk, payload: [9]), on: served.host)
        try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: 7, .badPayload)
        let largest = [UInt8](repeating: 2, count: 4089)
        try await send(Frame(type: .ping, seq: 8, payload: largest), on: served.host)
        let echoed = try await raw.nextFrame(timeout: .seconds(120))
        #expect(echoed.payload == largest && echoed.rawBytes.count == 4096)
    }

    @Test func aReplyThatWouldNotFitIsTooLarge() async throws {
        let (host, device) = MemoryLink.pair(seed: 3)
        let server = WireServer(endpoint: LargeReplyBoard(), transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let raw = RawDevice(host)
        try await openSession(host, raw)
        try await send(Frame(type: echo, seq: 1, payload: [0xF9, 0x0F]), on: host)  // 4089 bytes: fits
        #expect(try await raw.nextFrame(timeout: .seconds(120)).payload.count == 4089)
        try await send(Frame(type: echo, seq: 2, payload: [0xFA, 0x0F]), on: host)  // 4090 bytes: does not
        try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: 2, .tooLarge)
    }

    @Test func malformedHellosAreRefusedAndKeepTheSession() async throws {
        let board = TestBoard()
        let served = ServedBoard.start(board)
        defer { Task { await served.stop() } }
        let raw = RawDevice(served.host)
        // Before any session: a malformed hello opens none.
        try await send(Frame(type: .hello, seq: 1, payload: []), on: served.host)
        try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: 1, .badPayload)
        try await send(Frame(type: echo, seq: 2, payload: [1]), on: served.host)
        try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: 2, .handshakeRequired)

        try await openSession(served.host, raw)
        let cases: [[UInt8]] = [
            [], [1], [1, 5, 0, 0x61], [1, 0, 0, 9], [2, 0, 0], [0, 0, 0], [1, 0, 1] + [UInt8](repeating: 0x61, count: 256),
            [1, 1, 0, 0xFF],
        ]
        for (k, payload) in cases.enumerated() {
            let seq = UInt16(10 + k)
            try await send(Frame(type: .hello, seq: seq, payload: payload), on: served.host)
            try expectError(try await raw.nextFrame(timeout: .seconds(120)), seq: seq, .badPayload)
        }
        #expect(await served.server.statistics.sessions == 1)
        // 255 bytes is the longest hostName, and still a valid hello.
        let longest = [UInt8](repeating: 0x62, count: 255)
        try await send(Frame(type: .hello, seq: 30, payload: [1, 255, 0] + longest), on: served.host)
        #expect(try await raw.nextFrame(timeout: .seconds(120)).type == .hello)
        try await send(Frame(type: echo, seq: 31, payload: [3]), on: served.host)
        #expect(try await raw.nextFrame(timeout: .seconds(120)).payload == [3])
    }
}

/// §8 damage notices: a damaged frame gets exactly one notice, queued behind the replies to
/// the requests before it; noise that never looked like a frame gets none.
@Suite struct DamageNoticeTests {
    func encoded(_ raw: [UInt8]) -> [UInt8] {
        var out = COBS.encode(raw)
        out.append(0)
        return out
    }

    @Test func aDamagedFrameIsNoticedInItsPlaceAndNoiseIsNot() async throws {
        let served = ServedBoard.start(TestBoard())
        defer { Task { await served.stop() } }
        let raw = RawDevice(served.host)
        let hello = Frame(type: .hello, seq: 0, payload: try HelloRequest(hostName: "t").encode())
        try await served.host.write(encoded(hello.rawBytes))
        #expect(try await raw.nextFrame(timeout: .seconds(120)).type == .hello)
        var damaged = Frame(type: .ping, seq: 2, payload: [2, 2]).rawBytes
        damaged[6] ^= 0x10  // a payload bit: CRC mismatch
        // Ping 1, the damaged ping 2, ping 3 and bytes that never formed a frame, in one write.
        let bytes =
            encoded(Frame(type: .ping, seq: 1, payload: [1]).rawBytes) + encoded(damaged)
            + encoded(Frame(type: .ping, seq: 3, payload: [3]).rawBytes) + [0x37, 0x99, 0x42, 0x00]
        try await served.host.write(bytes)
        var got: [Frame] = []
        for _ in 0..<3 { got.append(try await raw.nextFrame(timeout: .seconds(120))) }
        #expect(got.map(\.type) == [.ping, .damaged, .ping], "\(got)")
        #expect(got[0].seq == 1 && got[2].seq == 3)
        #expect(got[1].seq == 0 && got[1].flags == .reply && got[1].payload.isEmpty)
        await #expect(throws: (any Error).self) { _ = try await raw.nextFrame(timeout: .milliseconds(300)) }
        #expect(await served.server.statistics.damageNotices == 1)
    }

    @Test func anEarlierRevisionSendsNone() async throws {
        var options = WireServer.Options()
        options.damageNotices = false
        let (host, device) = MemoryLink.pair(seed: 9)
        let server = WireServer(endpoint: TestBoard(), transport: device, options: options)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let raw = RawDevice(host)
        var damaged = Frame(type: .ping, seq: 2, payload: [2]).rawBytes
        damaged[damaged.count - 1] ^= 0x01
        try await host.write(encoded(damaged) + encoded(Frame(type: .ping, seq: 3, payload: [3]).rawBytes))
        let next = try await raw.nextFrame(timeout: .seconds(120))
        #expect(next.type == .error || next.type == .ping, "\(next)")  // handshakeRequired or echo, never a notice
        #expect(await server.statistics.damageNotices == 0)
    }
}
