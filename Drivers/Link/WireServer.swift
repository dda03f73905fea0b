import PNNCore
import PNNTransport
import PNNWire

/// The device end of a pnnlab wire session: reads frames from a link, answers the hello
/// and pings, enforces "hello first", answers retransmissions from a de-duplication
/// cache, hands family commands to a ``DeviceEndpoint`` one at a time in arrival order,
/// and paces replies like a real board (a per-request service time, an optional link
/// latency). Emulators and conformance tests run it; firmware implements the same rules.
public actor WireServer {
    private let endpoint: any DeviceEndpoint
    private let transport: any Transport
    /// The transport again when it can be written (and read) on the actor's own thread.
    private let direct: (any DirectTransport)?
    /// The writer task is inside a write: replies queue behind it.
    private var writing = false
    /// While the reader answers one read's worth of requests inline, their replies gather
    /// here and leave in one write (nil: not gathering).
    private var corked: [UInt8]?
    private let options: Options
    private var decoder: FrameDecoder
    private var dedup: Deduplicator
    private var sessionOpen = false
    private var streamSeq: [UInt8: UInt16] = [:]
    /// Counter of device-pushed bulk chunks (§11), restarting at each hello.
    private var bulkSeq: UInt16 = 0
    private var stats = Statistics()
    private let clock = ContinuousClock()
    private var busyUntil: ContinuousClock.Instant
    private var noise = SeededRandom(seed: 0x5EED)

    /// Requests received and not yet started, in arrival order.
    private var pending: [(frame: Frame, arrival: ContinuousClock.Instant)] = []
    private var workerWake: CheckedContinuation<Void, Never>?
    /// The family command executing now, and whether a preempting request stopped it.
    private var running: Task<Frame, Never>?
    private var runningPreempted = false

    /// Frames waiting for the line, in order; `isStream` marks device-pushed stream frames.
    private var outgoing: [(release: ContinuousClock.Instant, bytes: [UInt8], isStream: Bool)] = []
    private var writerWake: CheckedContinuation<Void, Never>?
    private var streamBacklog = 0
    private var streamWaiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false

    /// Stream frames that may wait for the line before a stream's producer is held back
    /// (a real board's UART paces its streams the same way).
    static let streamBacklogLimit = 32

    /// A server for `endpoint` on `transport`; call ``run()``.
    public init(endpoint: any DeviceEndpoint, transport: any Transport, options: Options = Options()) {
        self.endpoint = endpoint
        self.transport = transport
        self.direct = transport as? any DirectTransport
        self.options = options
        self.decoder = FrameDecoder(limits: options.limits)
        self.dedup = Deduplicator(capacity: options.dedupCapacity)
        self.busyUntil = clock.now
    }

    /// Serves until the link closes (returns normally) or the task is cancelled.
    ///
    /// Three loops: the reader takes every frame off the line as it arrives (so a
    /// `safeState` or hello is seen while a long command or stream runs), the worker
    /// executes requests one at a time in arrival order, the writer sends replies and
    /// stream frames. A preempting request (hello, the family's safe state) stops the
    /// running command at its next safe point, answers every queued request with
    /// `preempted`, discards stream frames not yet sent and is executed next (§6.1).
    public func run() async {
        let writer = Task { await self.writeLoop() }
        let worker = Task { await self.workLoop() }
        defer {
            closed = true
            writer.cancel()
            worker.cancel()
            running?.cancel()
            wakeAll()
        }
        let link = transport
        var inline = false
        while !Task.isCancelled {
            var bytes: [UInt8] = []
            do throws(TransportError) {
                if inline, let direct, pending.isEmpty, workerWake != nil, outgoing.isEmpty, !writing {
                    // Busy and idle now: wait for the next request here; after 5 ms of
                    // silence, park on the read thread (no CPU while the link is idle).
                    bytes = try direct.readNow(maxCount: 1 << 16, wait: .milliseconds(5))
                    if bytes.isEmpty {
                        inline = false
                        continue
                    }
                } else {
                    bytes = try await link.read(maxCount: 1 << 16, timeout: .milliseconds(100))
                    inline = options.inlineReads
                }
            } catch .timeout {
                continue
            } catch {
                return
            }
            let arrival = clock.now
            if options.silent { continue }
            if !options.lineMatches() {
                sendNoise(count: bytes.count)
                continue
            }
            corked = []
            defer { uncork() }
            // In one pass, frame by frame: a damaged frame's notice takes its place among the
            // requests around it.
            let notices = options.damageNotices
            bytes.withUnsafeBytes { raw in
                decoder.feed(raw) {
                    receive($0, arrival: arrival)
                } damaged: {
                    if notices { queueDamageNotice(arrival: arrival) }
                }
            }
            stats.decoder = decoder.statistics
        }
    }

    /// The device-side counters.
    public var statistics: Statistics {
        var s = stats
        s.decoder = decoder.statistics
        s.deduplicated = dedup.hits
        return s
    }

    // MARK: Reader

    /// Sorts a received frame: replies and stream frames are not requests (dropped and
    /// counted), a preempting request jumps the queue, everything else waits its turn.
    private func receive(_ frame: Frame, arrival: ContinuousClock.Instant) {
        if !Self.isRequest(frame) {
            stats.notRequests += 1
            return
        }
        if preempts(frame) {
            preempt(by: frame)
            pending.insert((frame, arrival), at: 0)
        } else if frame.type == .ping, pending.isEmpty, running == nil, workerWake != nil,
            options.serviceTime == .zero
        {
            // Nothing queued or running: a ping is answered here, without waking the worker.
            servePing(frame)
            return
        } else {
            pending.append((frame, arrival))
        }
        workerWake?.resume()
        workerWake = nil
    }

    /// Queues a damage notice (§8) behind the requests already received, so the host sees
    /// it after their replies and re-sends the request that came next.
    private func queueDamageNotice(arrival: ContinuousClock.Instant) {
        pending.append((Frame(type: .damaged, seq: 0, flags: .reply), arrival))
        workerWake?.resume()
        workerWake = nil
    }

    /// A request is a frame with none of the flags reply, error, stream (§3).
    static func isRequest(_ frame: Frame) -> Bool {
        frame.flags.isDisjoint(with: [.reply, .error, .stream])
    }

    /// Whether `frame` stops everything before it: a hello, or the family's safe-state
    /// command once a session is open.
    private func preempts(_ frame: Frame) -> Bool {
        if frame.type == .hello {  // only a hello that will open a session (§7)
            guard let hello = try? HelloRequest.decode(frame.payload) else { return false }
            return hello.protocolVersion == PNNWireVersion.protocolVersion && hello.hostName.utf8.count <= Self.maxHostName
        }
        return sessionOpen && frame.type.isFamilyCommand && endpoint.preemptingCommands.contains(frame.type)
    }

    /// Stops the running command, answers every queued request with `preempted` and
    /// drops unsent stream frames.
    private func preempt(by frame: Frame) {
        let why = frame.type == .hello ? "a hello (new session)" : "the safe-state command"
        for (request, _) in pending {
            // A copy of the preempting request itself (the host re-sent it while the first
            // was queued, §8) is the same request: it is answered once, by the copy that runs.
            if request.seq == frame.seq && request.type == frame.type && request.payload == frame.payload { continue }
            let reply = ErrorReply(code: .preempted, message: "dropped unexecuted: \(why) arrived").frame(seq: request.seq)
            stats.executed += 1
            stats.preempted += 1
            stats.errorReplies += 1
            emit(reply)
        }
        pending.removeAll()
        if let running {
            runningPreempted = true
            running.cancel()
        }
        outgoing.removeAll { $0.isStream }
        streamBacklog = 0
        resumeStreamWaiters()
    }

    // MARK: Worker

    private func workLoop() async {
        while !Task.isCancelled && !closed {
            guard !pending.isEmpty else {
                await withCheckedContinuation { workerWake = $0 }
                continue
            }
            let (request, arrival) = pending.removeFirst()
            if request.type == .damaged && request.flags.contains(.reply) {  // a queued damage notice
                stats.damageNotices += 1
                emit(request)
                continue
            }
            await serve(request, arrival: arrival)
        }
    }

    /// A ping, answered exactly as ``serve(_:arrival:)`` would (cache, flag checks, counters).
    private func servePing(_ request: Frame) {
        if let cached = dedup.cachedReply(for: request) {
            emit(cached)
            return
        }
        let reply =
            Self.flagProblem(request)?.frame(seq: request.seq)
            ?? Frame(type: .ping, seq: request.seq, flags: .reply, payload: request.payload)
        stats.executed += 1
        if reply.flags.contains(.error) { stats.errorReplies += 1 }
        dedup.remember(request: request, reply: reply)
        emit(reply)
    }

    private func serve(_ request: Frame, arrival: ContinuousClock.Instant) async {
        // A hello always opens a new session (it clears the cache); anything else already
        // executed with this seq, type and payload is answered from the cache (§8).
        if request.type != .hello, let cached = dedup.cachedReply(for: request) {
            emit(cached)
            return
        }
        var reply: Frame
        if let refusal = Self.flagProblem(request) {
            reply = refusal.frame(seq: request.seq)
        } else {
            switch request.type {
            case .hello:
                reply = await hello(request)
            case .ping:
                reply = Frame(type: .ping, seq: request.seq, flags: .reply, payload: request.payload)
            default:
                if !sessionOpen {
                    reply = ErrorReply(code: .handshakeRequired, message: "send hello first").frame(seq: request.seq)
                } else if request.type.isFamilyCommand || request.type == .bulkChunk {
                    reply = await execute(request)
                } else {
                    reply = ErrorReply(code: .unknownCommand, message: "type \(request.type) is not a request")
                        .frame(seq: request.seq)
                }
            }
        }
        if reply.rawBytes.count > options.limits.maxControlFrame, !reply.flags.contains(.bulk) {
            reply = ErrorReply(
                code: .tooLarge,
                message:
                    "the reply would be \(reply.rawBytes.count) bytes, over the \(options.limits.maxControlFrame)-byte frame limit"
            ).frame(seq: request.seq)
        }
        stats.executed += 1
        if reply.flags.contains(.error) { stats.errorReplies += 1 }
        if reply.type == .error, ErrorReply.code(of: reply) == .preempted { stats.preempted += 1 }
        dedup.remember(request: request, reply: reply)
        await pace(arrival: arrival)
        emit(reply)
    }

    /// The bulk flag belongs to `bulkChunk` frames only, and every `bulkChunk` carries it (§3).
    static func flagProblem(_ request: Frame) -> ErrorReply? {
        let bulk = request.flags.contains(.bulk)
        if bulk, request.type != .bulkChunk {
            return ErrorReply(code: .badPayload, message: "flag bulk is only allowed on bulkChunk frames")
        }
        if !bulk, request.type == .bulkChunk {
            return ErrorReply(code: .badPayload, message: "a bulkChunk frame must carry flag bulk (CRC-32)")
        }
        return nil
    }

    private func hello(_ request: Frame) async -> Frame {
        let parsed: HelloRequest
        do throws(PayloadError) {
            parsed = try HelloRequest.decode(request.payload)
        } catch {
            return ErrorReply(code: .badPayload, message: "malformed hello: \(error)").frame(seq: request.seq)
        }
        guard parsed.protocolVersion == PNNWireVersion.protocolVersion else {
            return ErrorReply(
                code: .badPayload,
                message: "hello asks for protocol \(parsed.protocolVersion); this device speaks \(PNNWireVersion.protocolVersion)"
            ).frame(seq: request.seq)
        }
        guard parsed.hostName.utf8.count <= Self.maxHostName else {
            return ErrorReply(
                code: .badPayload, message: "hostName is \(parsed.hostName.utf8.count) bytes, at most \(Self.maxHostName)"
            ).frame(seq: request.seq)
        }
        sessionOpen = true
        stats.sessions += 1
        dedup = Deduplicator(capacity: options.dedupCapacity)
        streamSeq.removeAll()
        bulkSeq = 0
        await endpoint.sessionReset()
        var reply = endpoint.hello
        reply.protocolVersion = options.headerVersion
        let payload = (try? reply.encode()) ?? []
        return Frame(type: .hello, seq: request.seq, flags: .reply, payload: payload)
    }

    /// Longest hostName a device must accept in a hello (UTF-8 bytes).
    public static let maxHostName = 255

    private func execute(_ request: Frame) async -> Frame {
        let pusher = StreamPusher(
            send: { [weak self] id, data in await self?.pushStream(id, data) },
            bulk: { [weak self] chunk in await self?.pushBulk(chunk) })
        let endpoint = self.endpoint
        runningPreempted = false
        let task = Task { () -> Frame in
            do throws(ErrorReply) {
                let payload = try await endpoint.handle(request.type, payload: request.payload, push: pusher)
                let type: FrameType = request.type == .bulkChunk ? .bulkAck : request.type
                return Frame(type: type, seq: request.seq, flags: .reply, payload: payload)
            } catch {
                return error.frame(seq: request.seq)
            }
        }
        running = task
        let reply = await task.value
        running = nil
        runningPreempted = false
        return reply
    }

    // MARK: Streams and the line

    private func pushStream(_ id: UInt8, _ data: [UInt8]) async {
        // Hold the producer while the line is behind (no unbounded queue a safe state
        // would have to wait for); a stopped command pushes nothing more.
        while streamBacklog >= Self.streamBacklogLimit, !closed, !(running?.isCancelled ?? false) {
            await withCheckedContinuation { streamWaiters.append($0) }
        }
        if closed || runningPreempted { return }
        let seq = streamSeq[id, default: 0]
        streamSeq[id] = seq &+ 1
        stats.streamFrames += 1
        streamBacklog += 1
        emit(StreamData(streamID: id, data: data).frame(seq: seq), isStream: true)
    }

    /// A device → host bulk chunk (§11): type `bulkChunk`, flags `bulk | stream`, numbered by
    /// its own counter (restarting at each hello), paced and preempted like stream frames.
    private func pushBulk(_ chunk: BulkChunk) async {
        while streamBacklog >= Self.streamBacklogLimit, !closed, !(running?.isCancelled ?? false) {
            await withCheckedContinuation { streamWaiters.append($0) }
        }
        if closed || runningPreempted { return }
        let seq = bulkSeq
        bulkSeq &+= 1
        stats.streamFrames += 1
        streamBacklog += 1
        emit(chunk.frame(seq: seq, flags: .stream), isStream: true)
    }

    /// Holds the reply until the board would have finished: requests queue behind each
    /// other, each occupying `serviceTime` from when the board was free (or the request
    /// arrived, if later) — absolute deadlines, so sleep overshoot does not accumulate.
    private func pace(arrival: ContinuousClock.Instant) async {
        guard options.serviceTime > .zero else { return }
        let start = max(arrival, busyUntil)
        busyUntil = start + options.serviceTime
        if busyUntil > clock.now { try? await Task.sleep(until: busyUntil, clock: .continuous) }
    }

    private func emit(_ frame: Frame, isStream: Bool = false) {
        enqueue(frame.wireBytes(version: options.headerVersion), isStream: isStream)
    }

    /// Writes the replies gathered while answering one read inline.
    private func uncork() {
        guard let bytes = corked else { return }
        corked = nil
        if !bytes.isEmpty { enqueue(bytes, isStream: false) }
    }

    private func enqueue(_ bytes: [UInt8], isStream: Bool) {
        var bytes = bytes
        if corked != nil {
            if !isStream, direct != nil, outgoing.isEmpty, !writing, options.latency == .zero {
                corked! += bytes
                return
            }
            uncork()  // what gathered goes first: bytes keep their order
        }
        if let direct, outgoing.isEmpty, !writing, options.latency == .zero {
            // The line is idle: write on this thread; only what the port cannot take now queues.
            let n = (try? direct.writeNow(bytes)) ?? 0
            if n == bytes.count {
                if isStream {
                    streamBacklog -= 1
                    resumeStreamWaiters()
                }
                return
            }
            bytes.removeFirst(n)
        }
        outgoing.append((clock.now + options.latency, bytes, isStream))
        writerWake?.resume()
        writerWake = nil
    }

    private func nextOutgoing() async -> (ContinuousClock.Instant, [UInt8])? {
        while outgoing.isEmpty {
            if closed || Task.isCancelled { return nil }
            await withCheckedContinuation { writerWake = $0 }
        }
        // Frames already due go out in one write (up to 32 KiB): one system call and one
        // wake-up of the host per batch instead of per frame.
        let release = outgoing[0].release
        let due = max(release, clock.now)
        var bytes: [UInt8] = []
        var taken = 0
        var streams = 0
        while taken < outgoing.count, outgoing[taken].release <= due,
            taken == 0 || bytes.count + outgoing[taken].bytes.count <= Self.coalesceLimit
        {
            bytes += outgoing[taken].bytes
            if outgoing[taken].isStream { streams += 1 }
            taken += 1
        }
        outgoing.removeFirst(taken)
        if streams > 0 {
            streamBacklog -= streams
            resumeStreamWaiters()
        }
        return (release, bytes)
    }

    /// The most bytes of already-due frames the writer joins into one write.
    private static let coalesceLimit = 1 << 15

    private func writeLoop() async {
        let link = transport
        while let (release, bytes) = await nextOutgoing() {
            writing = true
            defer { writing = false }
            if release > .now { try? await Task.sleep(until: release, clock: .continuous) }
            do throws(TransportError) { try await link.write(bytes) } catch { return }
        }
    }

    private func resumeStreamWaiters() {
        let waiters = streamWaiters
        streamWaiters.removeAll()
        for w in waiters { w.resume() }
    }

    private func wakeAll() {
        workerWake?.resume()
        workerWake = nil
        writerWake?.resume()
        writerWake = nil
        resumeStreamWaiters()
    }

    private func sendNoise(count: Int) {
        var junk: [UInt8] = []
        for _ in 0..<max(count, 8) { junk.append(UInt8(truncatingIfNeeded: noise.next()) | 1) }
        junk.append(0)
        enqueue(junk, isStream: false)
    }
}

extension WireErrorCode {
    /// The request was dropped before it ran, or stopped at a safe point, because a
    /// preempting request (the family's safe state, or a hello) arrived (docs/protocol.md §6.1).
    public static let preempted = WireErrorCode(rawValue: 0x000A)
}

extension ErrorReply {
    /// The code of an error frame's payload (nil when it does not parse).
    static func code(of frame: Frame) -> WireErrorCode? {
        (try? ErrorReply.decode(frame.payload))?.code
    }
}
