import PNNTransport
import PNNWire
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The host end of a pnnlab wire session over one byte link: handshake, pipelined
/// requests matched by sequence number, retries with backoff, device-pushed streams,
/// counters. One actor per link serialises the bookkeeping; a reader task feeds it bytes
/// and a writer task puts frames on the wire in the order they were submitted.
///
/// Use ``submit(_:payload:retry:timeout:)`` to queue many requests (it waits only while
/// the pipelining window is full) and ``reply(to:)`` to collect each answer, or
/// ``request(_:payload:retry:timeout:)`` for one round trip.
///
/// Deadlines and retries run on a ``LinkClock`` (real time unless a test injects a
/// ``ManualClock``). Every wait honours task cancellation: a cancelled task waiting for
/// window space or for a reply gets ``LinkError/cancelled`` at once. The request itself
/// stays in flight (its sequence number is not reused until the board answers or it times
/// out), so a late reply can never be taken for another request's.
public actor WireClient {
    private let transport: any Transport
    /// The transport again when it can be read and written on the actor's own thread.
    let direct: (any DirectTransport)?
    /// Writes handed to the writer task and not finished; while any is, ``send(_:)`` queues
    /// behind them instead of writing inline, so bytes keep their order.
    private let queuedWrites = QueuedWrites()
    /// The link's name, for messages.
    public nonisolated let port: String
    let configuration: Configuration
    var tracker: RequestTracker
    var decoder: FrameDecoder
    var streamCounters = StreamTracker()
    /// Stream frames received, lost and out of order per stream, and each stream's first
    /// counter since the last hello.
    public var streamTracker: StreamTracker { streamCounters }
    let clock: LinkClock
    private var nextTicket: UInt64 = 0
    private var ticketOfSeq: [UInt16: (ticket: UInt64, type: FrameType)] = [:]
    private var results: [UInt64: Result<Frame, LinkError>] = [:]
    private var waiting: [UInt64: CheckedContinuation<Result<Frame, LinkError>, Never>] = [:]
    /// Tickets whose waiter was cancelled: their reply is dropped when it comes.
    private var abandoned: Set<UInt64> = []
    private var windowWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private var nextWindowWaiter: UInt64 = 0
    var timerTask: Task<Void, Never>?
    var timerTarget: Double?
    var timerGeneration: UInt64 = 0
    /// Delivery of device-pushed streams and unmatched replies (WireClient+Streams.swift).
    var subscribers: [UInt8: StreamInbox] = [:]
    /// When the last stream frame arrived (nil before the first): while a stream flows, its
    /// consumer reads the port on its own thread (WireClient+Streams.swift).
    var lastStreamFrame: ContinuousClock.Instant?
    var unmatchedTap: AsyncStream<Frame>.Continuation?
    /// Receiver of device-pushed bulk chunks (WireClient+Streams.swift).
    var bulkHandler: (@Sendable (BulkChunk) -> Void)?
    var failure: LinkError?
    private var readerTask: Task<Void, Never>?
    private var writerTask: Task<Void, Never>?
    private let outbox: AsyncStream<[UInt8]>.Continuation
    private let outboxStream: AsyncStream<[UInt8]>
    private var bytesSent = 0
    private var framesSent = 0
    private var roundTripSum = 0.0
    /// Recent round trips, seconds (exponentially weighted; nil before the first): a device
    /// slower than ``Configuration/inlineReplyWait`` is not waited for inline.
    private var recentRoundTrip: Double?
    /// Lost exchanges (retransmissions) and bytes moved, both halved every
    /// ``FrameBudget/memoryBytes`` of traffic: the line's recent error rate per byte.
    private var recentLosses = 0.0
    private var damageNotices = 0
    private var recentBytes = 0.0
    /// The frame budget in force (nil: the device's limit).
    private var budget: Int?
    /// The device's hello, once the handshake succeeded.
    public internal(set) var hello: HelloReply?

    /// Starts a session on `transport` (no bytes are sent until the first request). Deadlines
    /// and retries run on `clock`.
    public init(transport: any Transport, configuration: Configuration = Configuration(), clock: LinkClock = .continuous) {
        self.transport = transport
        self.direct = transport as? any DirectTransport
        self.port = transport.description
        self.configuration = configuration
        self.tracker = RequestTracker(configuration: configuration.tracker, firstSeq: configuration.firstSeq)
        self.decoder = FrameDecoder(limits: configuration.limits)
        self.clock = clock
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        self.outbox = continuation
        self.outboxStream = stream
    }

    /// Runs the reader and writer tasks; called lazily by the first request.
    func startReader() {
        guard readerTask == nil else { return }
        let link = transport
        let stream = outboxStream
        let queued = queuedWrites
        writerTask = Task { [weak self] in
            for await bytes in stream {
                do throws(TransportError) {
                    try await link.write(bytes)
                    queued.finished()
                } catch {
                    queued.finished()
                    await self?.fail(.transport(error))
                    return
                }
            }
        }
        if let direct {
            // The background reader only watches; the bytes are read on the actor (by
            // `pump` or by a reply waiting inline), so they are read in order by one party.
            readerTask = Task { [weak self] in
                while !Task.isCancelled {
                    do throws(TransportError) {
                        try await direct.waitReadable(timeout: .seconds(1))
                        guard let self else { return }
                        await self.pump()
                    } catch .timeout {
                        guard let self else { return }
                        await self.tick()
                    } catch {
                        await self?.fail(.transport(error))
                        return
                    }
                }
            }
            return
        }
        readerTask = Task { [weak self] in
            while !Task.isCancelled {
                do throws(TransportError) {
                    let bytes = try await link.read(maxCount: 1 << 16, timeout: .seconds(1))
                    guard let self else { return }
                    await self.ingest(bytes)
                } catch .timeout {
                    guard let self else { return }
                    await self.tick()
                } catch {
                    await self?.fail(.transport(error))
                    return
                }
            }
        }
    }

    var now: Double { clock.now.seconds }

    // MARK: Requests

    /// Sends a request as soon as the window has room and returns its ticket. `timeout` is
    /// the first attempt's deadline in seconds (default: the configuration's); a value that
    /// is not a positive number falls back to the default. `flags`: request flags (`bulk` for
    /// `bulkChunk` frames, §3).
    public func submit(
        _ type: FrameType, payload: [UInt8] = [], flags: FrameFlags = [], retry: RetryPolicy, timeout: Double? = nil
    ) async throws(LinkError) -> Ticket {
        startReader()
        while true {
            if let failure { throw failure }
            if tracker.canSend { break }
            if Task.isCancelled { throw .cancelled }
            nextWindowWaiter += 1
            let id = nextWindowWaiter
            await withTaskCancellationHandler {
                await withCheckedContinuation { windowWaiters.append((id, $0)) }
            } onCancel: {
                Task { await self.cancelWindowWaiter(id) }
            }
        }
        let frame: Frame
        do {
            let timeout = timeout.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
            frame = try tracker.send(type: type, payload: payload, flags: flags, retry: retry, now: now, timeout: timeout)
        } catch {
            throw .cannotEncode(error.description)
        }
        let bytes: [UInt8]
        do {
            bytes = try frame.encoded(limits: configuration.limits)
        } catch {
            _ = tracker.receive(Frame(type: type, seq: frame.seq, flags: .reply), now: now)
            wakeWindowWaiter()
            throw .cannotEncode("\(type): \(error)")
        }
        nextTicket += 1
        ticketOfSeq[frame.seq] = (nextTicket, type)
        send(bytes)
        scheduleTimer()
        return Ticket(id: nextTicket, type: type)
    }

    /// Waits for the answer to `ticket`: the reply payload, or the device's error reply
    /// (``LinkError/device(request:_:)``), or a timeout after the last retry.
    public func reply(to ticket: Ticket) async throws(LinkError) -> [UInt8] {
        let result: Result<Frame, LinkError>
        if results[ticket.id] == nil, failure == nil, !Task.isCancelled {
            readInline(until: ticket.id)
        }
        if let ready = results.removeValue(forKey: ticket.id) {
            result = ready
        } else if let failure {
            result = .failure(failure)
        } else if Task.isCancelled {
            abandon(ticket.id)
            throw .cancelled
        } else {
            let id = ticket.id
            result = await withTaskCancellationHandler {
                await withCheckedContinuation { waiting[id] = $0 }
            } onCancel: {
                Task { await self.cancelWaiter(id) }
            }
        }
        let frame = try result.get()
        if frame.flags.contains(.error) {
            let reply = (try? ErrorReply.decode(frame.payload)) ?? ErrorReply(code: .internal, message: "unparsable error reply")
            throw .device(request: "\(ticket.type)", reply)
        }
        return frame.payload
    }

    /// Reads and ingests replies on this thread until `ticket`'s result is in, for at most
    /// ``Configuration/inlineReplyWait`` (a ``DirectTransport`` only).
    private func readInline(until ticket: UInt64) {
        guard let direct, configuration.inlineReplyWait > 0 else { return }
        if let rt = recentRoundTrip, rt > configuration.inlineReplyWait { return }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(configuration.inlineReplyWait)
        while results[ticket] == nil, failure == nil {
            let left = deadline - clock.now
            if left <= .zero { return }
            do throws(TransportError) {
                let bytes = try direct.readNow(maxCount: 1 << 16, wait: left)
                if bytes.isEmpty { return }
                ingest(bytes)
            } catch {
                fail(.transport(error))
            }
        }
    }

    /// Reads everything that arrived (the background reader saw bytes) and ingests it.
    private func pump() {
        guard let direct, failure == nil else { return }
        while true {
            do throws(TransportError) {
                let bytes = try direct.readNow(maxCount: 1 << 16, wait: .zero)
                if bytes.isEmpty { return }
                ingest(bytes)
            } catch {
                fail(.transport(error))
                return
            }
        }
    }

    /// A cancelled waiter gets ``LinkError/cancelled``; the reply, when it comes, is dropped.
    private func cancelWaiter(_ id: UInt64) {
        guard let c = waiting.removeValue(forKey: id) else { return }
        abandon(id)
        c.resume(returning: .failure(.cancelled))
    }

    private func abandon(_ id: UInt64) {
        if ticketOfSeq.values.contains(where: { $0.ticket == id }) { abandoned.insert(id) }
    }

    private func cancelWindowWaiter(_ id: UInt64) {
        guard let i = windowWaiters.firstIndex(where: { $0.id == id }) else { return }
        windowWaiters.remove(at: i).continuation.resume()
    }

    /// One round trip.
    public func request(
        _ type: FrameType, payload: [UInt8] = [], flags: FrameFlags = [], retry: RetryPolicy, timeout: Double? = nil
    ) async throws(LinkError) -> [UInt8] {
        let ticket = try await submit(type, payload: payload, flags: flags, retry: retry, timeout: timeout)
        return try await reply(to: ticket)
    }

    /// Puts raw bytes on the wire (conformance tests send damaged frames this way).
    public func sendRaw(_ bytes: [UInt8]) {
        startReader()
        send(bytes)
    }

    /// Payload bytes per frame that the line's recent error rate allows (see
    /// ``FrameBudget``): the device's control-frame limit on a clean line, down to
    /// ``FrameBudget/minimum`` on a very noisy one. Drivers size their requests (and the
    /// replies they ask for) by it.
    ///
    /// The budget moves in powers of two with hysteresis — down as soon as the estimate is
    /// below ¾ of it, up only when the estimate allows three times as much — so request
    /// sizes (and the input batches a driver keeps loaded) stay put while the line's error
    /// rate merely fluctuates.
    public var frameBudget: Int {
        let limit = Self.payloadLimit(configuration.limits)
        let raw: Double
        if recentLosses >= 0.5 {
            raw = FrameBudget.target / (recentLosses / max(recentBytes, 1))
        } else {
            raw = .infinity
        }
        let current = Double(budget ?? limit)
        if raw < 0.75 * current {
            budget = Self.powerOfTwo(atMost: max(Double(FrameBudget.minimum), raw))
        } else if raw >= 3 * current, current < Double(limit) {
            budget = raw >= Double(limit) ? nil : Self.powerOfTwo(atMost: raw / 1.5)
        }
        return min(budget ?? limit, limit)
    }

    private static func payloadLimit(_ limits: FrameLimits) -> Int { limits.maxControlFrame - Frame.headerSize - 2 }

    private static func powerOfTwo(atMost x: Double) -> Int {
        var p = FrameBudget.minimum
        while Double(p * 2) <= x { p *= 2 }
        return p
    }

    private func countTraffic(_ bytes: Int) {
        recentBytes += Double(bytes)
        if recentBytes > FrameBudget.memoryBytes {
            recentBytes /= 2
            recentLosses /= 2
        }
    }

    /// The seq this session's next request will get; a replacement session continues from
    /// it (``LinkConnection``), so late replies to this session never match the next one's.
    public var upcomingSeq: UInt16 { tracker.upcomingSeq }

    func send(_ bytes: [UInt8]) {
        countTraffic(bytes.count)
        bytesSent += bytes.count
        framesSent += 1
        var rest = bytes[...]
        if let direct, failure == nil, queuedWrites.idle {
            // The port is idle: write on this thread; only what it cannot take now queues.
            do throws(TransportError) {
                let n = try direct.writeNow(bytes)
                if n == bytes.count { return }
                rest = bytes[n...]
            } catch {
                fail(.transport(error))
                return
            }
        }
        queuedWrites.started()
        outbox.yield(Array(rest))
    }

    // MARK: Incoming

    func ingest(_ bytes: [UInt8]) {
        countTraffic(bytes.count)
        let before = decoder.statistics
        let frames = decoder.feed(bytes)
        var streamArrived = false
        defer { if streamArrived { lastStreamFrame = ContinuousClock.now } }
        let t = now
        let after = decoder.statistics
        if after.framesDelivered > before.framesDelivered || after.damagedFrames > before.damagedFrames {
            tracker.noteLineActivity(now: t)
        }
        for _ in before.damagedFrames..<max(before.damagedFrames, after.damagedFrames) {
            handle(tracker.damagedFrameArrived(now: t))
        }
        for frame in frames {
            if frame.type == .damaged && frame.flags.contains(.reply) {
                // The device got a damaged frame after answering everything before it: the
                // request that came next is re-sent at once (§8).
                damageNotices += 1
                handle(tracker.damagedFrameArrived(now: t))
                continue
            }
            if frame.flags.contains(.stream) && frame.type == .bulkChunk {
                // A device → host bulk chunk (§11): the receiver finds gaps from its offsets.
                if let chunk = try? BulkChunk.decode(frame.payload) { bulkHandler?(chunk) }
                continue
            }
            if frame.flags.contains(.stream) {
                _ = streamCounters.record(frame)
                if let data = try? StreamData.decode(frame.payload) {
                    subscribers[data.streamID]?.push(data)
                    streamArrived = true
                }
                continue
            }
            let duplicatesBefore = tracker.statistics.duplicateReplies
            guard case .completed(let seq, _, let reply, _, let rtt)? = tracker.receive(frame, now: t) else {
                // Late answers to our own retransmitted requests are not "unmatched".
                if tracker.statistics.duplicateReplies == duplicatesBefore { unmatchedTap?.yield(frame) }
                continue
            }
            roundTripSum += rtt
            recentRoundTrip = recentRoundTrip.map { 0.875 * $0 + 0.125 * rtt } ?? rtt
            finish(seq: seq, .success(reply))
        }
        tick()
    }

    func tick() {
        guard failure == nil else { return }
        handle(tracker.poll(now: now))
        scheduleTimer()
    }

    private func handle(_ events: [RequestTracker.Event]) {
        guard failure == nil else { return }
        for event in events {
            switch event {
            case .retransmit(let frame):
                recentLosses += 1
                if let bytes = try? frame.encoded(limits: configuration.limits) { send(bytes) }
            case .timedOut(let seq, let type, let attempts, let waited):
                finish(seq: seq, .failure(.timedOut(request: "\(type)", attempts: attempts, waited: waited)))
            case .completed:
                break
            }
        }
    }

    private func finish(seq: UInt16, _ result: Result<Frame, LinkError>) {
        guard let entry = ticketOfSeq.removeValue(forKey: seq) else { return }
        if abandoned.remove(entry.ticket) != nil {
            wakeWindowWaiter()
            return
        }
        if let c = waiting.removeValue(forKey: entry.ticket) {
            c.resume(returning: result)
        } else {
            results[entry.ticket] = result
        }
        wakeWindowWaiter()
    }

    private func wakeWindowWaiter() {
        if !windowWaiters.isEmpty { windowWaiters.removeFirst().continuation.resume() }
    }

    func fail(_ error: LinkError) {
        if failure == nil { failure = error }
        let error = failure ?? error
        cancelTimer()
        _ = tracker.cancelAll()
        for (_, entry) in ticketOfSeq where !abandoned.contains(entry.ticket) { results[entry.ticket] = .failure(error) }
        ticketOfSeq.removeAll()
        abandoned.removeAll()
        for (id, c) in waiting {
            results.removeValue(forKey: id)
            c.resume(returning: .failure(error))
        }
        waiting.removeAll()
        for w in windowWaiters { w.continuation.resume() }
        windowWaiters.removeAll()
        for (_, s) in subscribers { s.end() }
        subscribers.removeAll()
        unmatchedTap?.finish()
        unmatchedTap = nil
    }

    // MARK: Lifecycle

    /// The session's counters.
    public var statistics: Statistics {
        let s = tracker.statistics
        return Statistics(
            requests: s, decoder: decoder.statistics, streams: streamCounters.total, bytesSent: bytesSent,
            framesSent: framesSent, meanRoundTrip: s.completed > 0 ? roundTripSum / Double(s.completed) : 0,
            waitingForWindow: windowWaiters.count, frameBudget: frameBudget, damageNotices: damageNotices)
    }

    /// Why the session ended, if it did.
    public var terminalError: LinkError? { failure }

    /// Counts the writes queued for the writer task (shared with it).
    final class QueuedWrites: Sendable {
        private let count = Mutex(0)
        var idle: Bool { count.withLock { $0 == 0 } }
        func started() { count.withLock { $0 += 1 } }
        func finished() { count.withLock { $0 -= 1 } }
    }

    /// Ends the session: pending requests fail with ``LinkError/closed``, the link closes.
    public func close() async {
        fail(.closed)
        outbox.finish()
        readerTask?.cancel()
        await transport.close()
    }
}
