import PNNLink
import PNNTransport
import PNNWire
import Testing

/// The host session over an in-memory link against a served test board: pipelining window,
/// retries answered from the device's de-duplication cache, per-request deadlines and
/// cancellation. Deadlines run on a `ManualClock`, so nothing waits for real time.
@Suite(.timeLimit(.minutes(1))) struct WireClientTests {
    @Test func neverMoreThanTheWindowInFlight() async throws {
        let board = TestBoard(gated: true)
        let served = ServedBoard.start(board)
        let tap = TappedTransport(served.host)
        let clock = ManualClock()
        let client = WireClient(transport: tap, configuration: .init(tracker: tracker(window: 4)), clock: LinkClock(clock))
        try await client.handshake(family: "test")

        let replies = Task {
            try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for i in 0..<12 {
                    group.addTask { try await client.request(echo, payload: [UInt8(i)], retry: .idempotent) }
                }
                var all: [[UInt8]] = []
                for try await r in group { all.append(r) }
                return all
            }
        }
        // Four are sent, eight wait for window space; the board holds the first.
        await eventually("8 requests wait for the window") { await client.statistics.waitingForWindow == 8 }
        #expect(await client.statistics.requests.sent == 1 + 4, "hello and four requests")
        await eventually("4 requests are on the wire") { tap.requestsSent == 4 }
        await eventually("the board started one request") { await board.totalExecutions == 1 }

        // Each answer lets exactly one more request out.
        await board.release(1)
        await eventually("one more was sent") { await client.statistics.requests.sent == 1 + 5 }
        #expect(await client.statistics.waitingForWindow == 7)
        await eventually("5 requests are on the wire") { tap.requestsSent == 5 }

        await board.open()
        let all = try await replies.value
        #expect(Set(all) == Set((0..<12).map { [UInt8($0)] }))
        #expect(tap.requestsSent == 12)
        #expect(tap.mostInFlight == 4, "window 4, at most 4 requests unanswered at any write")
        #expect(await client.statistics.requests.retransmissions == 0)
        await client.close()
        await served.stop()
    }

    @Test func lostReplyIsRetransmittedAndAnsweredFromTheCache() async throws {
        let board = TestBoard()
        // The board's first answer to the payload [7] is lost on the way back.
        var dropping: DroppingTransport?
        let served = ServedBoard.start(board) { device in
            let d = DroppingTransport(device) { $0.type == echo && $0.payload == [7] }
            dropping = d
            return d
        }
        let clock = ManualClock()
        let client = WireClient(transport: served.host, configuration: .init(tracker: tracker()), clock: LinkClock(clock))
        try await client.handshake(family: "test")

        let ticket = try await client.submit(echo, payload: [7], retry: .deduplicated)
        var drops = try #require(dropping).dropped.makeAsyncIterator()
        let dropped = try #require(await drops.next())
        #expect(dropped.flags.contains(.reply))
        #expect(await board.executions[[7]] == 1)

        // Nothing happens until the deadline; at 0.2 s the request goes out again.
        #expect(clock.now.offset == .zero)
        #expect(await clock.waitForSleepers())
        #expect(abs(clock.advanceToNextDeadline().seconds - 0.2) < 1e-9)
        #expect(try await client.reply(to: ticket) == [7])

        let stats = await client.statistics
        #expect(stats.requests.retransmissions == 1)
        #expect(stats.requests.timeouts == 0)
        #expect(await board.executions[[7]] == 1, "the retransmission must not execute again")
        #expect(await served.server.statistics.deduplicated == 1)
        await client.close()
        await served.stop()
    }

    @Test func lastAttemptTimesOutWithItsTiming() async throws {
        let clock = ManualClock()
        let (client, raw) = try await rawSession(seed: 2, clock: clock)

        let ticket = try await client.submit(echo, payload: [1], retry: .idempotent)
        let first = try await raw.nextFrame()
        #expect(!first.flags.contains(.retransmission))
        // Deadlines 0.2 s, then +0.4 s, then +0.8 s (×2 backoff): retransmit, retransmit, give up.
        var steps: [Duration] = []
        for attempt in 2...3 {
            #expect(await clock.waitForSleepers())
            steps.append(clock.advanceToNextDeadline())
            let again = try await raw.nextFrame()
            #expect(again.seq == first.seq && again.flags.contains(.retransmission), "attempt \(attempt)")
        }
        #expect(await clock.waitForSleepers())
        steps.append(clock.advanceToNextDeadline())
        #expect(steps.map { ($0.seconds * 1e9).rounded() / 1e9 } == [0.2, 0.4, 0.8])

        let error = await linkError { try await client.reply(to: ticket) }
        guard case .timedOut(let request, let attempts, let waited)? = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(request == "\(echo)")
        #expect(attempts == 3)
        #expect(abs(waited - 1.4) < 1e-9)
        #expect(try await raw.drain().isEmpty, "no fourth attempt")
        #expect(error?.isConnectionLoss == true)
        await client.close()
    }

    @Test func perRequestTimeoutOverridesTheDefault() async throws {
        let clock = ManualClock()
        let (client, raw) = try await rawSession(seed: 3, clock: clock)

        let slow = try await client.submit(echo, payload: [1], retry: .never, timeout: 1.0)
        let quick = try await client.submit(echo, payload: [2], retry: .never)
        #expect(await clock.waitForSleepers())
        clock.advance(by: .milliseconds(200))
        let quickError = await linkError { try await client.reply(to: quick) }
        #expect(quickError == .timedOut(request: "\(echo)", attempts: 1, waited: 0.2))
        #expect(await client.statistics.requests.timeouts == 1, "the 1 s request is still waiting at 0.2 s")

        #expect(await clock.waitForSleepers())
        #expect(abs(clock.advanceToNextDeadline().seconds - 0.8) < 1e-9)
        let slowError = await linkError { try await client.reply(to: slow) }
        #expect(slowError == .timedOut(request: "\(echo)", attempts: 1, waited: 1.0))
        #expect(try await raw.drain().count == 2, "policy never: no retransmissions")
        await client.close()
    }

    @Test func nonPositiveTimeoutFallsBackToTheDefault() async throws {
        let clock = ManualClock()
        let (client, raw) = try await rawSession(seed: 8, clock: clock)
        // e.g. a learn of −1 s asks for a deadline of 2 + 20·(−1) s: the board must still get
        // the default 0.2 s to refuse it, not a deadline in the past.
        let ticket = try await client.submit(echo, payload: [1], retry: .never, timeout: -18)
        _ = try await raw.nextFrame()
        #expect(await clock.waitForSleepers())
        #expect(abs(clock.advanceToNextDeadline().seconds - 0.2) < 1e-9)
        #expect(await linkError { try await client.reply(to: ticket) } == .timedOut(request: "\(echo)", attempts: 1, waited: 0.2))
        await client.close()
    }

    @Test func handshakeOnASilentPortSaysSo() async throws {
        let (host, _) = MemoryLink.pair(seed: 4)
        let clock = ManualClock()
        let client = WireClient(
            transport: host, configuration: .init(tracker: tracker(), helloTimeout: 0.3), clock: LinkClock(clock))
        let hello = Task { try await client.handshake(family: "test") }
        // 0.3 s, then 0.6 s, then 1.2 s (×2 backoff, capped at 2 s).
        for _ in 0..<3 {
            #expect(await clock.waitForSleepers())
            clock.advanceToNextDeadline()
        }
        let error = await linkError { try await hello.value }
        guard case .silent(let port, let waited)? = error else {
            Issue.record("expected silent, got \(String(describing: error))")
            return
        }
        #expect(port == host.description)
        #expect(abs(waited - 2.1) < 1e-9)
        await client.close()
    }

    @Test func cancelledWaiterReturnsPromptlyAndItsLateReplyIsDropped() async throws {
        let clock = ManualClock()
        let (client, raw) = try await rawSession(seed: 5, clock: clock)

        // The clock never moves: without cancellation this waiter would wait for ever.
        let waiter = Task { try await client.request(echo, payload: [1], retry: .idempotent) }
        let request = try await raw.nextFrame()
        let real = ContinuousClock()
        let start = real.now
        waiter.cancel()
        let error = await linkError { try await waiter.value }
        #expect(error == .cancelled)
        expectPrompt(real.now - start)

        // The abandoned request keeps its seq until answered; its late reply goes nowhere,
        // and the next request gets its own answer.
        #expect(await client.statistics.requests.sent == 1 + 1, "hello and the abandoned request")
        try await raw.answer(request, payload: [0xEE])
        let next = Task { try await client.request(echo, payload: [2], retry: .idempotent) }
        let second = try await raw.nextFrame()
        #expect(second.seq != request.seq)
        try await raw.answer(second)
        #expect(try await next.value == [2])
        #expect(await client.statistics.requests.completed == 3, "hello, the late reply (dropped), the second")
        await client.close()
    }

    @Test func cancelledWindowWaiterReturnsPromptly() async throws {
        let clock = ManualClock()
        let (client, raw) = try await rawSession(seed: 6, window: 1, clock: clock)

        _ = try await client.submit(echo, payload: [1], retry: .idempotent)
        _ = try await raw.nextFrame()
        let blocked = Task { try await client.submit(echo, payload: [2], retry: .idempotent) }
        await eventually("the second request waits for the window") {
            await client.statistics.waitingForWindow == 1
        }
        let real = ContinuousClock()
        let start = real.now
        blocked.cancel()
        let error = await linkError { try await blocked.value }
        #expect(error == .cancelled)
        expectPrompt(real.now - start)
        #expect(await client.statistics.waitingForWindow == 0)
        #expect(try await raw.drain().isEmpty, "the cancelled request was never sent")
        await client.close()
    }

    @Test func closingFailsEveryWaiter() async throws {
        let (client, raw) = try await rawSession(seed: 7, clock: ManualClock())
        let waiter = Task { try await client.request(echo, payload: [1], retry: .idempotent) }
        _ = try await raw.nextFrame()
        await client.close()
        #expect(await linkError { try await waiter.value } == .closed)
        #expect(await client.terminalError == .closed)
    }

    /// A handshaken session whose device end the test drives by hand.
    func rawSession(seed: UInt64, window: Int = 8, clock: ManualClock) async throws -> (WireClient, RawDevice) {
        let (host, device) = MemoryLink.pair(seed: seed)
        let raw = RawDevice(device)
        let client = WireClient(
            transport: host, configuration: .init(tracker: tracker(window: window)), clock: LinkClock(clock))
        let hello = Task { try await client.handshake() }
        try await raw.acceptHello(as: TestBoard().hello)
        _ = try await hello.value
        return (client, raw)
    }
}
