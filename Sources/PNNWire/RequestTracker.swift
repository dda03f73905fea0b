/// When a request that got no reply may be sent again.
public enum RetryPolicy: Sendable, Equatable {
    /// Never re-send; a timeout is final (e.g. a write the device cannot de-duplicate).
    case never
    /// Safe to execute twice (reads, pings): re-sent with the same seq.
    case idempotent
    /// A write the device de-duplicates: re-sent with the same seq and the
    /// `retransmission` flag, so the device answers from its cache instead of re-executing.
    case deduplicated
}

/// Why a request could not be sent.
public enum TrackerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The pipelining window is full; wait for a reply or a timeout.
    case windowFull(limit: Int)

    public var description: String {
        switch self {
        case .windowFull(let limit):
            "\(limit) requests already in flight (the pipelining window); wait for replies first"
        }
    }
}

/// Host-side request/reply bookkeeping, a pure state machine: assigns wrapping 16-bit
/// sequence numbers, limits the number in flight, matches replies by seq, and turns
/// missed deadlines into retransmissions (exponential backoff) or timeouts. The caller
/// supplies the time (`now`, monotonic seconds) and does all I/O.
public struct RequestTracker: Sendable {
    /// Window, deadlines and retries.
    public struct Configuration: Sendable, Equatable {
        /// Most requests in flight at once (1…32768).
        public var window: Int
        /// Deadline of the first attempt, seconds.
        public var timeout: Double
        /// Attempts in total, including the first.
        public var maxAttempts: Int
        /// Each retry's deadline is the previous one times this factor…
        public var backoff: Double
        /// …capped at this many seconds.
        public var maxTimeout: Double

        public init(window: Int = 8, timeout: Double = 0.2, maxAttempts: Int = 3, backoff: Double = 2, maxTimeout: Double = 2) {
            self.window = min(max(window, 1), 32_768)
            self.timeout = timeout
            self.maxAttempts = max(maxAttempts, 1)
            self.backoff = backoff
            self.maxTimeout = maxTimeout
        }
    }

    /// Something the caller must act on.
    public enum Event: Sendable, Equatable {
        /// A reply (possibly an error reply) arrived for request `seq`.
        case completed(seq: UInt16, request: FrameType, reply: Frame, attempts: Int, roundTrip: Double)
        /// Put this frame on the wire again (same seq, retransmission flag set).
        case retransmit(Frame)
        /// No reply after the last allowed attempt; `waited` seconds since the first send.
        case timedOut(seq: UInt16, request: FrameType, attempts: Int, waited: Double)
    }

    /// Counters.
    public struct Statistics: Sendable, Equatable {
        /// Requests sent (first attempts).
        public var sent = 0
        /// Re-sent attempts.
        public var retransmissions = 0
        /// Requests answered (including error replies).
        public var completed = 0
        /// Requests answered with an error reply.
        public var errorReplies = 0
        /// Requests given up after their last attempt.
        public var timeouts = 0
        /// Replies whose seq matches nothing recent (dropped).
        public var unknownReplies = 0
        /// Second replies, or replies after a timeout (dropped).
        public var duplicateReplies = 0
        public init() {}
    }

    private struct Pending: Sendable {
        var frame: Frame
        var policy: RetryPolicy
        var firstSent: Double
        var deadline: Double
        var attempts: Int
        var baseTimeout: Double
    }

    /// The configuration in force.
    public let configuration: Configuration
    /// Counters so far.
    public private(set) var statistics = Statistics()
    private var pending: [UInt16: Pending] = [:]
    private var nextSeq: UInt16
    private var recent: [UInt16] = []  // recently finished seqs, oldest first
    private static let recentCapacity = 64

    public init(configuration: Configuration = Configuration(), firstSeq: UInt16 = 0) {
        self.configuration = configuration
        self.nextSeq = firstSeq
    }

    /// Requests awaiting a reply.
    public var inFlight: Int { pending.count }
    /// Whether the window has room for another request.
    public var canSend: Bool { pending.count < configuration.window }
    /// The seqs awaiting a reply, ascending.
    public var inFlightSeqs: [UInt16] { pending.keys.sorted() }
    /// The earliest deadline, for the caller's timer; nil when nothing is in flight.
    public var nextDeadline: Double? { pending.values.map(\.deadline).min() }

    /// Assigns a seq to a new request and returns the frame to send. The reply, error
    /// and stream flags are not request flags and are cleared. `timeout` overrides the
    /// configured first-attempt deadline for slow commands (retries back off from it).
    public mutating func send(
        type: FrameType, payload: [UInt8] = [], flags: FrameFlags = [], retry: RetryPolicy, now: Double,
        timeout firstTimeout: Double? = nil
    ) throws(TrackerError) -> Frame {
        guard canSend else { throw .windowFull(limit: configuration.window) }
        while pending[nextSeq] != nil { nextSeq &+= 1 }
        let frame = Frame(type: type, seq: nextSeq, flags: flags.subtracting([.reply, .error, .stream]), payload: payload)
        nextSeq &+= 1
        let base = firstTimeout ?? configuration.timeout
        pending[frame.seq] = Pending(
            frame: frame, policy: retry, firstSent: now, deadline: now + timeout(attempt: 1, base: base), attempts: 1,
            baseTimeout: base)
        statistics.sent += 1
        return frame
    }

    /// Offers a received frame. Returns `.completed` when it answers a request in flight;
    /// nil for non-replies and for unknown or duplicate replies (counted, dropped).
    public mutating func receive(_ frame: Frame, now: Double) -> Event? {
        guard frame.flags.contains(.reply) else { return nil }
        guard let p = pending.removeValue(forKey: frame.seq) else {
            if recent.contains(frame.seq) {
                statistics.duplicateReplies += 1
            } else {
                statistics.unknownReplies += 1
            }
            return nil
        }
        remember(frame.seq)
        statistics.completed += 1
        if frame.flags.contains(.error) { statistics.errorReplies += 1 }
        return .completed(
            seq: frame.seq, request: p.frame.type, reply: frame, attempts: p.attempts, roundTrip: now - p.firstSent)
    }

    /// Handles every deadline at or before `now`: retransmissions and timeouts, by seq
    /// order of their deadlines.
    public mutating func poll(now: Double) -> [Event] {
        let due = pending.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
        var events: [Event] = []
        for (seq, var p) in due {
            if p.policy != .never && p.attempts < configuration.maxAttempts {
                p.attempts += 1
                p.frame.flags.insert(.retransmission)
                p.deadline = now + timeout(attempt: p.attempts, base: p.baseTimeout)
                pending[seq] = p
                statistics.retransmissions += 1
                events.append(.retransmit(p.frame))
            } else {
                pending[seq] = nil
                remember(seq)
                statistics.timeouts += 1
                events.append(.timedOut(seq: seq, request: p.frame.type, attempts: p.attempts, waited: now - p.firstSent))
            }
        }
        return events
    }

    /// Forgets every request in flight (e.g. the link was closed) and returns their seqs.
    public mutating func cancelAll() -> [UInt16] {
        let seqs = inFlightSeqs
        for s in seqs { remember(s) }
        pending.removeAll()
        return seqs
    }

    private func timeout(attempt: Int, base: Double) -> Double {
        var t = base
        for _ in 1..<max(attempt, 1) { t *= configuration.backoff }
        return min(t, max(configuration.maxTimeout, base))
    }

    private mutating func remember(_ seq: UInt16) {
        if recent.count == Self.recentCapacity { recent.removeFirst() }
        recent.append(seq)
    }
}
