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
            serviceTime: Duration = .zero, inlineReplyWait: Double = 0.002, board: TestBoard = TestBoard()
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
