import PNNLink
import PNNTransport
import PNNWire
import Synchronization
import Testing

/// The family command the test board understands: echoes its payload.
let echo = FrameType(rawValue: 0x40)

/// A minimal board for link tests: `echo` returns its payload. It counts executions per
/// payload (a de-duplicated retransmission is not executed again), announces every request
/// it starts on ``started``, and, when gated, holds each request until ``release(_:)``.
actor TestBoard: DeviceEndpoint {
    nonisolated let hello: HelloReply
    private(set) var executions: [[UInt8]: Int] = [:]
    private var gated: Bool
    private var credits = 0
    private var held: [CheckedContinuation<Void, Never>] = []
    nonisolated let started: AsyncStream<[UInt8]>
    private let startedContinuation: AsyncStream<[UInt8]>.Continuation

    init(serial: String = "TB-1", gated: Bool = false) {
        hello = HelloReply(
            schemaHash: 0x1234_5678, family: "test", model: "loopback", serial: serial, firmware: "1",
            capabilities: HelloReply.emulatorBit, descriptor: [])
        self.gated = gated
        (started, startedContinuation) = AsyncStream.makeStream()
    }

    func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        guard type == echo else { throw ErrorReply(code: .unknownCommand, message: "test board knows only echo") }
        executions[payload, default: 0] += 1
        startedContinuation.yield(payload)
        if gated {
            if credits > 0 {
                credits -= 1
            } else {
                await withCheckedContinuation { held.append($0) }
            }
        }
        return payload
    }

    func sessionReset() async {}

    /// Lets `count` held (or future) requests finish.
    func release(_ count: Int) {
        for _ in 0..<count {
            if held.isEmpty {
                credits += 1
            } else {
                held.removeFirst().resume()
            }
        }
    }

    /// Stops gating and lets everything through.
    func open() {
        gated = false
        for h in held { h.resume() }
        held.removeAll()
    }

    var totalExecutions: Int { executions.values.reduce(0, +) }
}

/// A board served by a `WireServer` on one end of an in-memory link.
struct ServedBoard {
    let host: MemoryLink
    let device: MemoryLink
    let server: WireServer
    let serving: Task<Void, Never>

    static func start(_ board: TestBoard, seed: UInt64 = 1, wrapDevice: (MemoryLink) -> any Transport = { $0 })
        -> ServedBoard
    {
        let (host, device) = MemoryLink.pair(seed: seed)
        let server = WireServer(endpoint: board, transport: wrapDevice(device))
        return ServedBoard(host: host, device: device, server: server, serving: Task { await server.run() })
    }

    func stop() async {
        serving.cancel()
        await host.close()
    }
}

/// Tracker settings whose deadlines are easy to reason about: 0.2 s, ×2 backoff, 3 attempts.
func tracker(window: Int = 8, maxAttempts: Int = 3) -> RequestTracker.Configuration {
    .init(window: window, timeout: 0.2, maxAttempts: maxAttempts, backoff: 2, maxTimeout: 2)
}

/// The device end driven by hand: read the host's frames, answer when the test says so.
actor RawDevice {
    let link: MemoryLink
    private var decoder = FrameDecoder()
    private var pending: [Frame] = []

    init(_ link: MemoryLink) { self.link = link }

    /// The next frame the host sent (waits up to `timeout` of real time).
    func nextFrame(timeout: Duration = .seconds(10)) async throws -> Frame {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while pending.isEmpty {
            let left = deadline - clock.now
            guard left > .zero else { throw TransportError.timeout(timeout) }
            do {
                pending += decoder.feed(try await link.read(maxCount: 1 << 16, timeout: left))
            } catch .timeout {
                continue
            }
        }
        return pending.removeFirst()
    }

    /// Frames the host has sent so far that were not yet taken, without waiting.
    func drain() async throws -> [Frame] {
        while true {
            do {
                pending += decoder.feed(try await link.read(maxCount: 1 << 16, timeout: .zero))
            } catch .timeout {
                break
            }
        }
        defer { pending.removeAll() }
        return pending
    }

    /// Answers `request` with `payload`.
    func answer(_ request: Frame, payload: [UInt8]? = nil) async throws {
        let reply = Frame(type: request.type, seq: request.seq, flags: .reply, payload: payload ?? request.payload)
        try await link.write(try reply.encoded())
    }

    /// Waits for the hello and answers it as `board`.
    func acceptHello(as board: HelloReply) async throws {
        let hello = try await nextFrame()
        #expect(hello.type == .hello)
        let reply = Frame(type: .hello, seq: hello.seq, flags: .reply, payload: try board.encode())
        try await link.write(try reply.encoded())
    }
}

/// A link end that drops the first `count` frames `matching` picks (the server writes one
/// frame per call) and announces each dropped frame.
final class DroppingTransport: Transport, Sendable {
    let base: any Transport
    let matching: @Sendable (Frame) -> Bool
    private let left: Mutex<Int>
    let dropped: AsyncStream<Frame>
    private let droppedContinuation: AsyncStream<Frame>.Continuation
    var description: String { "dropping \(base.description)" }

    init(_ base: any Transport, count: Int = 1, matching: @escaping @Sendable (Frame) -> Bool) {
        self.base = base
        self.matching = matching
        self.left = Mutex(count)
        (dropped, droppedContinuation) = AsyncStream.makeStream()
    }

    func write(_ bytes: [UInt8]) async throws(TransportError) {
        if let frame = try? Frame.decode(wire: bytes), matching(frame) {
            let drop = left.withLock { n in
                defer { n = max(0, n - 1) }
                return n > 0
            }
            if drop {
                droppedContinuation.yield(frame)
                return
            }
        }
        try await base.write(bytes)
    }

    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        try await base.read(maxCount: maxCount, timeout: timeout)
    }

    func close() async { await base.close() }
}

/// Wraps the host's end and keeps, in the order they happened, every request frame the
/// host wrote and every reply frame it read: the window is checked against this log.
final class TappedTransport: Transport, Sendable {
    enum Event: Equatable {
        case sent(seq: UInt16, retransmission: Bool)
        case received(seq: UInt16)
    }
    let base: any Transport
    private let log = Mutex<(events: [Event], sent: FrameDecoder, received: FrameDecoder)>(
        ([], FrameDecoder(), FrameDecoder()))
    var description: String { base.description }

    init(_ base: any Transport) { self.base = base }

    var events: [Event] { log.withLock { $0.events } }

    /// Requests written so far (first attempts).
    var requestsSent: Int { events.filter { if case .sent(_, false) = $0 { true } else { false } }.count }

    /// The most requests that were ever unanswered when the host wrote a new one.
    var mostInFlight: Int {
        var outstanding = Set<UInt16>()
        var most = 0
        for e in events {
            switch e {
            case .sent(let seq, _):
                outstanding.insert(seq)
                most = max(most, outstanding.count)
            case .received(let seq):
                outstanding.remove(seq)
            }
        }
        return most
    }

    func write(_ bytes: [UInt8]) async throws(TransportError) {
        log.withLock { l in
            for f in l.sent.feed(bytes) where f.type != .hello {
                l.events.append(.sent(seq: f.seq, retransmission: f.flags.contains(.retransmission)))
            }
        }
        try await base.write(bytes)
    }

    func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        let bytes = try await base.read(maxCount: maxCount, timeout: timeout)
        log.withLock { l in
            for f in l.received.feed(bytes) where f.flags.contains(.reply) && f.type != .hello {
                l.events.append(.received(seq: f.seq))
            }
        }
        return bytes
    }

    func close() async { await base.close() }
}

/// Waits (yielding, never sleeping) until `condition` holds; fails the test after
/// `limit` of real time.
func eventually(
    _ what: String, limit: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async -> Bool
) async {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while !(await condition()) {
        if clock.now > deadline {
            Issue.record("timed out waiting until \(what)", sourceLocation: sourceLocation)
            return
        }
        await Task.yield()
    }
}

/// The `LinkError` `body` threw. Records an issue if it returned, threw something else, or
/// did not finish within `limit` of real time (so a regression fails instead of hanging).
func linkError<T: Sendable>(
    within limit: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async throws -> T
) async -> LinkError? {
    let work = Task { try await body() }
    let outcome: Result<T, any Error>? = await withCheckedContinuation { c in
        let once = Once(c)
        Task { once.resume(await work.result) }
        Task {
            try? await Task.sleep(for: limit)
            once.resume(nil)
        }
    }
    switch outcome {
    case nil:
        work.cancel()
        Issue.record("did not finish within \(limit)", sourceLocation: sourceLocation)
        return nil
    case .success(let value)?:
        Issue.record("expected a LinkError, got \(value)", sourceLocation: sourceLocation)
        return nil
    case .failure(let e as LinkError)?:
        return e
    case .failure(let e)?:
        Issue.record("expected a LinkError, got \(e)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Resumes a continuation once; later calls are ignored.
final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>
    init(_ c: CheckedContinuation<T, Never>) { continuation = Mutex(c) }
    func resume(_ value: T) {
        continuation.withLock { c in
            defer { c = nil }
            return c
        }?.resume(returning: value)
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let count = Mutex(0)
    /// Counts one more and returns the new count.
    func next() -> Int {
        count.withLock { n in
            n += 1
            return n
        }
    }
    var value: Int { count.withLock { $0 } }
}

/// A cancelled wait must end at once. The waits under test never end by themselves (the
/// clock does not move, or the grace period is 15 s), so ending at all proves the
/// cancellation path; the bound is 1 s on an idle machine (measured: a few ms), with room
/// for a loaded 2-core CI machine running the whole suite in parallel (1.1 s seen).
func expectPrompt(_ elapsed: Duration, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(elapsed < .seconds(3), "cancellation took \(elapsed)", sourceLocation: sourceLocation)
}
