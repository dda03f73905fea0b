import PNNLink
import PNNTransport
import PNNWire
import Testing

/// WireClient and WireServer over a real pty, where both read and write on their own
/// thread (``DirectTransport``): replies pair up, slow replies still arrive through the
/// background reader, and unasked frames on an idle link are read.
@Suite(.serialized) struct InlinePathTests {
    struct Rig {
        let pty: PtyPair
        let client: WireClient
        let server: WireServer
        let serving: Task<Void, Never>

        static func start(
            serviceTime: Duration = .zero, inlineReplyWait: Double = 0.002, board: any DeviceEndpoint = TestBoard()
        ) async throws -> Rig {
            let pty = try PtyPair.open()
            var options = WireServer.Options(serviceTime: serviceTime)
            options.inlineReads = true
            let server = WireServer(endpoint: board, transport: pty.master, options: options)
            let serving = Task { await server.run() }
            let serial = try PosixSerialLink.open(path: pty.slavePath, baud: 115_200)
            // Deadlines far beyond any reply here, even on a loaded machine running other suites
            // alongside: a retransmission would then mean a lost reply, not a slow one.
            let client = WireClient(
                transport: serial,
                configuration: .init(
                    tracker: .init(
                        window: 8, timeout: 5, maxAttempts: 3, backoff: 2, maxTimeout: 10, adaptiveFirstTimeout: false),
                    helloTimeout: 5, inlineReplyWait: inlineReplyWait))
            _ = try await client.handshake()
            return Rig(pty: pty, client: client, server: server, serving: serving)
        }

        func stop() async {
            await client.close()
            serving.cancel()
            await pty.close()
        }
    }

    @Test func stopAndWaitPingsEchoTheirPayloads() async throws {
        let rig = try await Rig.start()
        for k in 0..<300 {
            let payload = (0..<16).map { UInt8(truncatingIfNeeded: k &+ $0) }
            #expect(try await rig.client.request(.ping, payload: payload, retry: .idempotent) == payload)
        }
        let served = await rig.server.statistics
        #expect(served.executed == 301)  // the hello and 300 pings
        let stats = await rig.client.statistics
        #expect(stats.requests.completed == 301)
        #expect(stats.requests.retransmissions == 0)
        await rig.stop()
    }

    @Test func pipelinedRepliesPairBySeq() async throws {
        let rig = try await Rig.start()
        var tickets: [(WireClient.Ticket, [UInt8])] = []
        for k in 0..<200 {
            let payload = [UInt8(k & 0xFF), UInt8(k >> 8), 0x55]
            tickets.append((try await rig.client.submit(echo, payload: payload, retry: .idempotent), payload))
            if tickets.count > 8 {
                let (t, p) = tickets.removeFirst()
                #expect(try await rig.client.reply(to: t) == p)
            }
        }
        for (t, p) in tickets { #expect(try await rig.client.reply(to: t) == p) }
        await rig.stop()
    }

    @Test func aReplySlowerThanTheInlineWaitStillArrives() async throws {
        let rig = try await Rig.start(serviceTime: .milliseconds(40))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try await rig.client.request(echo, payload: [1, 2, 3], retry: .idempotent) == [1, 2, 3])
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(39))
        // Delivered by the background reader when it came, not by a retry after the 5 s deadline.
        #expect(elapsed < .seconds(4), "took \(elapsed)")
        #expect(await rig.client.statistics.requests.retransmissions == 0)
        await rig.stop()
    }

    @Test func framesOnAnIdleLinkAreReadInTheBackground() async throws {
        let rig = try await Rig.start()
        _ = try await rig.client.request(.ping, payload: [7], retry: .idempotent)
        // A damaged frame: the device answers with a damage notice (§8) while no reply is
        // awaited, so only the background reader can take it off the line.
        var damaged = try Frame(type: .ping, seq: 999, flags: [], payload: [1, 2, 3, 4]).encoded()
        let at = damaged.count - 4  // a byte inside the frame, turned into another non-zero byte
        damaged[at] = damaged[at] == 0x7F ? 0x7E : 0x7F
        await rig.client.sendRaw(damaged)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        while await rig.client.statistics.damageNotices == 0, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await rig.client.statistics.damageNotices == 1)
        await rig.stop()
    }

    /// A fast stream is read by its consumer (inline) or by the background reader (inline
    /// wait 0): either way every frame arrives once, in order, intact; the reply follows them;
    /// and an unsubscribed stream still hands out the frames that had arrived, then ends.
    @Test(.timeLimit(.minutes(2)), arguments: [0.002, 0.0])
    func streamFramesArriveInOrderReadInlineOrNot(inlineReplyWait: Double) async throws {
        let rig = try await Rig.start(inlineReplyWait: inlineReplyWait, board: StreamingBoard())
        func request(_ count: UInt32) -> [UInt8] {
            var w = PayloadWriter()
            w.u32(count)
            return w.bytes
        }
        let frames = await rig.client.subscribe(stream: StreamingBoard.stream)
        let count: UInt32 = 300
        let ticket = try await rig.client.submit(echo, payload: request(count), retry: .never, timeout: 60)
        var next: UInt32 = 0
        for await data in frames {
            var r = PayloadReader(data.data)
            let index = try r.u32("index")
            #expect(index == next)
            #expect(r.remaining == StreamingBoard.filler && data.data.last == UInt8(truncatingIfNeeded: index))
            next += 1
            if next == count { break }
        }
        #expect(next == count)
        #expect(try await rig.client.reply(to: ticket) == request(count))
        let counters = await rig.client.streamTracker.streams[StreamingBoard.stream]
        #expect(counters?.received == Int(count) && counters?.lost == 0)

        // Frames precede their reply on the line: once it is in, all 50 are in the inbox.
        let more = await rig.client.subscribe(stream: StreamingBoard.stream)
        #expect(try await rig.client.request(echo, payload: request(50), retry: .never, timeout: 60) == request(50))
        await rig.client.unsubscribe(stream: StreamingBoard.stream)
        var after: [UInt32] = []
        for await data in more {
            var r = PayloadReader(data.data)
            after.append(try r.u32("index"))
        }
        #expect(after == Array(0..<50))
        await rig.stop()
    }

    @Test func closingWhileAReplyIsAwaitedFailsItAtOnce() async throws {
        // The board holds the echo for good (the hello is answered at once).
        let rig = try await Rig.start(inlineReplyWait: 0.002, board: TestBoard(gated: true))
        let ticket = try await rig.client.submit(echo, payload: [1], retry: .never, timeout: 30)
        let waiter = Task { () -> LinkError? in
            do throws(LinkError) {
                _ = try await rig.client.reply(to: ticket)
                return nil
            } catch { return error }
        }
        try await Task.sleep(for: .milliseconds(50))
        let clock = ContinuousClock()
        let start = clock.now
        await rig.client.close()
        #expect(await waiter.value == .closed)
        #expect(clock.now - start < .seconds(2))
        rig.serving.cancel()
        await rig.pty.close()
    }
}

/// A board whose one command (`echo` with a u32 count) pushes that many ~4 kB frames on one
/// stream — a u32 index, then filler bytes equal to the index's low byte — then echoes.
actor StreamingBoard: DeviceEndpoint {
    static let stream: UInt8 = 7
    static let filler = 4_000
    nonisolated let hello = HelloReply(
        schemaHash: 0x1234_5678, family: "test", model: "streaming", serial: "SB-1", firmware: "1",
        capabilities: HelloReply.emulatorBit, descriptor: [])

    func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        var r = PayloadReader(payload)
        guard type == echo, let count = try? r.u32("count") else {
            throw ErrorReply(code: .badPayload, message: "expected echo with a u32 frame count")
        }
        for k in 0..<count {
            var w = PayloadWriter()
            w.u32(k)
            w.raw([UInt8](repeating: UInt8(truncatingIfNeeded: k), count: Self.filler))
            await push.push(streamID: Self.stream, data: w.bytes)
        }
        return payload
    }

    func sessionReset() async {}
}
