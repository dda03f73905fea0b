import PNNCore
import PNNTransport
import PNNWire

/// The device end of a pnnlab wire session: reads frames from a link, answers the hello
/// and pings, enforces "hello first", answers retransmissions from a de-duplication
/// cache, hands family commands to a ``DeviceEndpoint`` one at a time in arrival order,
/// and paces replies like a real board (a per-request service time, an optional link
/// latency). Emulators and conformance tests run it; firmware implements the same rules.
public actor WireServer {
    /// How the emulated board behaves on the wire.
    public struct Options: Sendable {
        /// Time the board is busy per request (requests queue behind each other).
        public var serviceTime: Duration
        /// Extra delay before each reply leaves (cable, USB frames, UART): does not occupy the board.
        public var latency: Duration
        /// Frame size limits.
        public var limits: FrameLimits
        /// Replies remembered for retransmissions.
        public var dedupCapacity: Int
        /// Header version written on outgoing frames (only changed to test version mismatch).
        public var headerVersion: UInt8
        /// When this returns false the line settings do not match (e.g. wrong baud): every
        /// byte received is answered with line noise instead of frames.
        public var lineMatches: @Sendable () -> Bool
        /// Reads and discards everything, answering nothing (a board that is off or hung).
        public var silent = false

        public init(
            serviceTime: Duration = .zero, latency: Duration = .zero, limits: FrameLimits = .standard,
            dedupCapacity: Int = 32, headerVersion: UInt8 = PNNWireVersion.protocolVersion,
            lineMatches: @escaping @Sendable () -> Bool = { true }
        ) {
            self.serviceTime = serviceTime
            self.latency = latency
            self.limits = limits
            self.dedupCapacity = dedupCapacity
            self.headerVersion = headerVersion
            self.lineMatches = lineMatches
        }
    }

    /// Counters of the device side.
    public struct Statistics: Sendable, Equatable {
        /// Requests executed (de-duplicated retransmissions not included).
        public var executed = 0
        /// Retransmissions answered from the cache.
        public var deduplicated = 0
        /// Error replies sent.
        public var errorReplies = 0
        /// Stream frames pushed.
        public var streamFrames = 0
        /// Hellos answered.
        public var sessions = 0
        /// Frame decoder counters (rejected frames, bytes discarded…).
        public var decoder = FrameDecoder.Statistics()
    }

    private let endpoint: any DeviceEndpoint
    private let transport: any Transport
    private let options: Options
    private var decoder: FrameDecoder
    private var dedup: Deduplicator
    private var sessionOpen = false
    private var streamSeq: [UInt8: UInt16] = [:]
    private var stats = Statistics()
    private let clock = ContinuousClock()
    private var busyUntil: ContinuousClock.Instant
    private let outbox: AsyncStream<(ContinuousClock.Instant, [UInt8])>.Continuation
    private let outboxStream: AsyncStream<(ContinuousClock.Instant, [UInt8])>
    private var noise = SeededRandom(seed: 0x5EED)

    /// A server for `endpoint` on `transport`; call ``run()``.
    public init(endpoint: any DeviceEndpoint, transport: any Transport, options: Options = Options()) {
        self.endpoint = endpoint
        self.transport = transport
        self.options = options
        self.decoder = FrameDecoder(limits: options.limits)
        self.dedup = Deduplicator(capacity: options.dedupCapacity)
        self.busyUntil = clock.now
        (outboxStream, outbox) = AsyncStream.makeStream()
    }

    /// Serves until the link closes (returns normally) or the task is cancelled.
    public func run() async {
        let link = transport
        let stream = outboxStream
        let writer = Task {
            for await (release, bytes) in stream {
                if release > .now { try? await Task.sleep(until: release, clock: .continuous) }
                do throws(TransportError) { try await link.write(bytes) } catch { return }
            }
        }
        defer {
            outbox.finish()
            writer.cancel()
        }
        while !Task.isCancelled {
            let bytes: [UInt8]
            do throws(TransportError) {
                bytes = try await link.read(maxCount: 1 << 16, timeout: .milliseconds(100))
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
            for frame in decoder.feed(bytes) {
                await serve(frame, arrival: arrival)
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

    private func serve(_ request: Frame, arrival: ContinuousClock.Instant) async {
        if request.flags.contains(.reply) || request.flags.contains(.stream) { return }  // not requests
        // A hello always opens a new session (it clears the cache); anything else already
        // executed with this seq, type and payload is answered from the cache (§8).
        if request.type != .hello, let cached = dedup.cachedReply(for: request) {
            emit(cached)
            return
        }
        let reply: Frame
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
        stats.executed += 1
        if reply.flags.contains(.error) { stats.errorReplies += 1 }
        dedup.remember(request: request, reply: reply)
        await pace(arrival: arrival)
        emit(reply)
    }

    private func hello(_ request: Frame) async -> Frame {
        sessionOpen = true
        stats.sessions += 1
        dedup = Deduplicator(capacity: options.dedupCapacity)
        streamSeq.removeAll()
        await endpoint.sessionReset()
        var reply = endpoint.hello
        reply.protocolVersion = options.headerVersion
        let payload = (try? reply.encode()) ?? []
        return Frame(type: .hello, seq: request.seq, flags: .reply, payload: payload)
    }

    private func execute(_ request: Frame) async -> Frame {
        let pusher = StreamPusher { [weak self] id, data in await self?.pushStream(id, data) }
        do throws(ErrorReply) {
            let payload = try await endpoint.handle(request.type, payload: request.payload, push: pusher)
            let type: FrameType = request.type == .bulkChunk ? .bulkAck : request.type
            return Frame(type: type, seq: request.seq, flags: .reply, payload: payload)
        } catch {
            return error.frame(seq: request.seq)
        }
    }

    private func pushStream(_ id: UInt8, _ data: [UInt8]) {
        let seq = streamSeq[id, default: 0]
        streamSeq[id] = seq &+ 1
        stats.streamFrames += 1
        emit(StreamData(streamID: id, data: data).frame(seq: seq))
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

    private func emit(_ frame: Frame) {
        let raw = frame.rawBytes(version: options.headerVersion)
        var out = COBS.encode(raw)
        out.append(0)
        outbox.yield((clock.now + options.latency, out))
    }

    private func sendNoise(count: Int) {
        var junk: [UInt8] = []
        for _ in 0..<max(count, 8) { junk.append(UInt8(truncatingIfNeeded: noise.next()) | 1) }
        junk.append(0)
        outbox.yield((clock.now + options.latency, junk))
    }
}
