import PNNLink
import PNNTransport
import PNNWire
import Synchronization
import Testing

/// Reconnection: the port is reopened after the link drops, the serial is checked, the
/// grace period and backoff run on a `ManualClock`, and a cancelled reconnect stops at once.
@Suite(.timeLimit(.minutes(1))) struct LinkConnectionTests {
    /// Each `open()` serves a fresh test board on a new in-memory link — unless told to
    /// fail (a board still re-enumerating) or to answer with another serial.
    final class Bench: Sendable {
        struct State {
            var serials: [String] = []
            var failuresLeft = 0
            var attempts = 0
            var served: [ServedBoard] = []
        }
        let state = Mutex(State())
        let attempted: AsyncStream<Int>
        private let attemptedContinuation: AsyncStream<Int>.Continuation

        init(serials: [String] = ["TB-1"], failures: Int = 0) {
            state.withLock {
                $0.serials = serials
                $0.failuresLeft = failures
            }
            (attempted, attemptedContinuation) = AsyncStream.makeStream()
        }

        var attempts: Int { state.withLock { $0.attempts } }

        func failNext(_ count: Int) { state.withLock { $0.failuresLeft = count } }

        func open() throws(LinkError) -> any Transport {
            let outcome: Result<String, LinkError> = state.withLock { s in
                s.attempts += 1
                if s.failuresLeft > 0 {
                    s.failuresLeft -= 1
                    return .failure(.transport(.notFound(path: "/dev/ttyTEST")))
                }
                return .success(s.serials.count > 1 ? s.serials.removeFirst() : s.serials[0])
            }
            attemptedContinuation.yield(attempts)
            let serial = try outcome.get()
            let served = ServedBoard.start(TestBoard(serial: serial), seed: UInt64(attempts))
            state.withLock { $0.served.append(served) }
            return served.host
        }

        /// Pulls the cable of the newest link.
        func unplug() async {
            guard let last = state.withLock({ $0.served.last }) else { return }
            await last.host.disconnect()
        }

        func stop() async {
            for s in state.withLock({ $0.served }) { await s.stop() }
        }

        func connect(grace: Double = 2, clock: LinkClock) async throws -> LinkConnection {
            try await LinkConnection(
                port: "test-port", family: "test", schemaHash: 0x1234_5678, grace: grace,
                configuration: .init(tracker: tracker()), clock: clock,
                opener: { () async throws(LinkError) -> any Transport in try self.open() })
        }
    }

    /// Link events, in order.
    final class Events: Sendable {
        let list = Mutex<[LinkEvent]>([])
        var all: [LinkEvent] { list.withLock { $0 } }
        var observer: @Sendable (LinkEvent) -> Void { { e in self.list.withLock { $0.append(e) } } }
    }

    @Test func reconnectsAfterTheLinkDropsAndChecksTheSerial() async throws {
        let bench = Bench()
        let clock = ManualClock()
        let connection = try await bench.connect(clock: LinkClock(clock))
        let events = Events()
        await connection.setObserver(events.observer)
        #expect(connection.hello.serial == "TB-1")
        #expect(try await connection.client.request(echo, payload: [1], retry: .idempotent) == [1])

        await bench.unplug()
        let error = await linkError { try await connection.client.request(echo, payload: [2], retry: .idempotent) }
        #expect(error == .transport(.closed("device unplugged")))
        #expect(error?.isConnectionLoss == true)

        let client = try await connection.reconnect(after: try #require(error))
        #expect(try await client.request(echo, payload: [3], retry: .idempotent) == [3])
        #expect(await connection.client === client)
        #expect(await connection.reconnections == 1)
        #expect(bench.attempts == 2)
        let descriptions = events.all.map(\.description)
        #expect(descriptions.count == 2)
        #expect(descriptions.first?.hasPrefix("link to test-port lost (link closed: device unplugged)") == true)
        #expect(descriptions.last == "reconnected to test-port after 0 ms; resuming")
        await connection.close()
        await bench.stop()
    }

    @Test func aDifferentBoardOnThePortIsRefused() async throws {
        let bench = Bench(serials: ["TB-1", "TB-2"])
        let connection = try await bench.connect(clock: LinkClock(ManualClock()))
        await bench.unplug()
        let error = await linkError { try await connection.reconnect(after: .transport(.closed("device unplugged"))) }
        #expect(error == .deviceChanged(port: "test-port", expected: "TB-1", found: "TB-2"))
        #expect(await connection.reconnections == 0)
        #expect(bench.attempts == 2, "a different board is final, not retried")
        await connection.close()
        await bench.stop()
    }

    @Test func retriesWithBackoffUntilTheBoardIsBack() async throws {
        let bench = Bench()
        let clock = ManualClock()
        let connection = try await bench.connect(clock: LinkClock(clock))
        let events = Events()
        await connection.setObserver(events.observer)
        await bench.unplug()
        bench.failNext(2)
        let reconnecting = Task { try await connection.reconnect(after: .transport(.closed("device unplugged"))) }
        // Attempt 1 fails, 50 ms backoff; attempt 2 fails, 100 ms; attempt 3 succeeds.
        var waits: [Duration] = []
        for _ in 0..<2 {
            #expect(await clock.waitForSleepers())
            waits.append(clock.advanceToNextDeadline())
        }
        let client = try await reconnecting.value
        #expect(waits == [.milliseconds(50), .milliseconds(100)])
        #expect(bench.attempts == 1 + 3)
        #expect(try await client.request(echo, payload: [9], retry: .idempotent) == [9])
        #expect(events.all.last?.description == "reconnected to test-port after 150 ms; resuming")
        await connection.close()
        await bench.stop()
    }

    @Test func givesUpAfterTheGracePeriod() async throws {
        let bench = Bench()
        let clock = ManualClock()
        let connection = try await bench.connect(grace: 1, clock: LinkClock(clock))
        await bench.unplug()
        bench.failNext(.max)
        let reconnecting = Task { try await connection.reconnect(after: .transport(.closed("device unplugged"))) }
        // Backoff 50, 100, 200, 400, 500 ms: after 1.25 s the grace of 1 s is over.
        for _ in 0..<5 {
            #expect(await clock.waitForSleepers())
            clock.advanceToNextDeadline()
        }
        let error = await linkError { try await reconnecting.value }
        #expect(
            error
                == .reconnectFailed(
                    port: "test-port", waited: 1.25, lastError: "port /dev/ttyTEST does not exist"))
        #expect(bench.attempts == 1 + 5)
        await connection.close()
        await bench.stop()
    }

    @Test func cancelledReconnectStopsAtOnce() async throws {
        let bench = Bench()
        let clock = ManualClock()
        let connection = try await bench.connect(grace: 15, clock: LinkClock(clock))
        await bench.unplug()
        bench.failNext(.max)
        let reconnecting = Task { try await connection.reconnect(after: .transport(.closed("device unplugged"))) }
        #expect(await clock.waitForSleepers())
        #expect(bench.attempts == 2)
        let real = ContinuousClock()
        let start = real.now
        reconnecting.cancel()
        #expect(await linkError { try await reconnecting.value } == .cancelled)
        expectPrompt(real.now - start)
        #expect(bench.attempts == 2, "no port reopened after the cancel")
        #expect(clock.sleeperCount == 0)
        #expect(clock.now.offset == .zero)
        await connection.close()
        await bench.stop()
    }

    /// The same on the real clock: before the fix a cancelled reconnect reopened the port
    /// back to back until the grace period ran out.
    @Test func cancelledReconnectStopsAtOnceOnTheRealClock() async throws {
        let bench = Bench()
        let connection = try await bench.connect(grace: 15, clock: .continuous)
        await bench.unplug()
        bench.failNext(.max)
        var attempts = bench.attempted.makeAsyncIterator()
        #expect(await attempts.next() == 1)
        let reconnecting = Task { try await connection.reconnect(after: .transport(.closed("device unplugged"))) }
        #expect(await attempts.next() == 2)
        let real = ContinuousClock()
        let start = real.now
        reconnecting.cancel()
        #expect(await linkError { try await reconnecting.value } == .cancelled)
        expectPrompt(real.now - start)
        #expect(bench.attempts <= 3)
        await connection.close()
        await bench.stop()
    }

    @Test func handshakeOfAReconnectHonoursCancellation() async throws {
        // The port opens but nothing answers the hello; the clock never moves, so only
        // cancellation can end the wait.
        let clock = ManualClock()
        let opened = Counter()
        let (silentHost, _) = MemoryLink.pair(seed: 11)
        let served = ServedBoard.start(TestBoard(), seed: 12)
        let connection = try await LinkConnection(
            port: "test-port", family: "test", schemaHash: 0x1234_5678, grace: 15,
            configuration: .init(tracker: tracker()), clock: LinkClock(clock),
            opener: { () async throws(LinkError) -> any Transport in
                opened.next() == 1 ? served.host : silentHost
            })
        let reconnecting = Task { try await connection.reconnect(after: .transport(.closed("device unplugged"))) }
        #expect(await clock.waitForSleepers())  // the hello's deadline timer on the silent link
        reconnecting.cancel()
        #expect(await linkError { try await reconnecting.value } == .cancelled)
        #expect(opened.value == 2)
        await connection.close()
        await served.stop()
    }
}
