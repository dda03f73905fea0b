/// A device-pushed stream frame's payload: `streamID u8 | data`. The frame has type
/// `streamData`, flag `stream`, and its seq is the stream's own counter (starting
/// anywhere, +1 per frame, wrapping at 65535).
public struct StreamData: Hashable, Sendable {
    /// Which stream (device-defined, e.g. 0 = ADC samples).
    public var streamID: UInt8
    /// The samples.
    public var data: [UInt8]

    public init(streamID: UInt8, data: [UInt8]) {
        self.streamID = streamID
        self.data = data
    }

    /// The frame carrying this data as stream frame number `seq`.
    public func frame(seq: UInt16) -> Frame {
        Frame(type: .streamData, seq: seq, flags: .stream, payload: [streamID] + data)
    }

    /// Parses a stream payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> StreamData {
        guard let id = payload.first else {
            throw .truncated(field: "streamID", needed: 1, available: 0)
        }
        return StreamData(streamID: id, data: Array(payload.dropFirst()))
    }
}

/// Counts lost stream frames from gaps in their sequence numbers, per stream. Streams are
/// never acknowledged or retransmitted; this is how the host knows what it missed.
public struct StreamTracker: Sendable {
    /// Counters for one stream (or all).
    public struct Counters: Sendable, Equatable {
        /// Frames received.
        public var received = 0
        /// Frames missing from seq gaps.
        public var lost = 0
        /// Frames arriving with a seq at or behind the latest (duplicates, reordering).
        public var outOfOrder = 0
        public init() {}
    }

    private var last: [UInt8: UInt16] = [:]
    /// The counter of each stream's first frame since the tracker started or last
    /// ``restart()``ed: 0 from a device that restarts its counters at hello (§9).
    public private(set) var firstSeq: [UInt8: UInt16] = [:]
    /// Per-stream counters.
    public private(set) var streams: [UInt8: Counters] = [:]
    /// Totals over all streams.
    public private(set) var total = Counters()

    public init() {}

    /// Records stream frame `seq` of `streamID`; returns how many frames were lost just
    /// before it (0 when in order, and for out-of-order frames).
    @discardableResult
    public mutating func record(streamID: UInt8, seq: UInt16) -> Int {
        var c = streams[streamID] ?? Counters()
        c.received += 1
        total.received += 1
        var gap = 0
        if let prev = last[streamID] {
            let delta = seq &- prev
            if delta == 0 || delta >= 0x8000 {
                c.outOfOrder += 1
                total.outOfOrder += 1
            } else {
                gap = Int(delta) - 1
                last[streamID] = seq
            }
        } else {
            last[streamID] = seq
            firstSeq[streamID] = seq
        }
        c.lost += gap
        total.lost += gap
        streams[streamID] = c
        return gap
    }

    /// Forgets the last counter of every stream (the counts are kept): after a successful
    /// hello the device restarts its counters at 0, which must not read as a jump (§9).
    public mutating func restart() {
        last.removeAll()
        firstSeq.removeAll()
    }

    /// Records a received stream frame (its first payload byte is the stream id).
    @discardableResult
    public mutating func record(_ frame: Frame) -> Int {
        record(streamID: frame.payload.first ?? 0, seq: frame.seq)
    }
}

/// Device-side memory of the last `capacity` replies, keyed by the request's seq, type and
/// payload (its CRC-32), so that a request whose reply was lost — re-sent with the
/// `retransmission` flag, or a copy the line duplicated — gets the cached reply again
/// instead of being executed twice (docs/protocol.md §8). A request that matches an entry
/// in seq and type but not in payload is a different request and is executed: a stale reply
/// is never sent for it.
public struct Deduplicator: Sendable {
    private struct Entry: Sendable {
        var seq: UInt16
        var type: FrameType
        var payloadCRC: UInt32
        var payloadCount: Int
        var reply: Frame
    }

    /// How many replies are remembered (should be ≥ the host's window).
    public let capacity: Int
    private var entries: [Entry] = []
    /// Requests answered from the cache.
    public private(set) var hits = 0

    public init(capacity: Int = 32) { self.capacity = max(capacity, 1) }

    /// The cached reply if `request` (seq, type and payload, with or without the
    /// `retransmission` flag) was already executed; nil means: execute it, then `remember`
    /// the reply.
    public mutating func cachedReply(for request: Frame) -> Frame? {
        let crc = CRC32.checksum(request.payload)
        guard
            let e = entries.last(where: {
                $0.seq == request.seq && $0.type == request.type && $0.payloadCount == request.payload.count
                    && $0.payloadCRC == crc
            })
        else { return nil }
        hits += 1
        return e.reply
    }

    /// Stores the reply sent for `request` (replacing any older entry with its seq).
    public mutating func remember(request: Frame, reply: Frame) {
        let e = Entry(
            seq: request.seq, type: request.type, payloadCRC: CRC32.checksum(request.payload),
            payloadCount: request.payload.count, reply: reply)
        entries.removeAll { $0.seq == request.seq }
        if entries.count == capacity { entries.removeFirst() }
        entries.append(e)
    }
}
