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
/// sequence numbers, limits the number in flight, matches replies by seq **and** type
/// (docs/protocol.md §6), and turns missed deadlines into retransmissions (exponential
/// backoff) or timeouts. The caller supplies the time (`now`, monotonic seconds) and does
/// all I/O.
///
/// Two rules make a noisy line degrade gracefully instead of failing (§8):
/// - **Fast retransmission.** A device answers in arrival order, so when a request sent
///   *after* request A is answered while A is not, A or its reply was lost: A is re-sent
///   at once (``poll(now:)``) instead of after its deadline.
/// - **Patience on a live line.** A request gives up after `maxAttempts` only when nothing
///   came back from the device since its last attempt (a dead board); while the line shows
///   life (``noteLineActivity(now:)``: frames, even damaged ones, arrived since the last
///   attempt or within the last `silence` seconds) it may use up to `noisyAttempts`.
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
        /// Attempts allowed while the line shows life (frames keep arriving from the device,
        /// so the line is noisy rather than dead); never fewer than `maxAttempts`.
        public var noisyAttempts: Int
        /// Re-send a request at once when a later request is answered before it (devices
        /// answer in arrival order, so it was lost). Off only for a device family that may
        /// answer out of order.
        public var fastRetransmit: Bool
        /// Shorten a request's deadlines to what the link has shown for its type (smoothed
        /// round trip + 4 × its deviation, at least `minTimeout`, backing off, at most the
        /// full schedule, for up to ``RequestTracker/maxShortAttempts`` attempts that do not
        /// count against the limit): a slow command costs a few early re-sends, which the
        /// device answers from its cache.
        public var adaptiveFirstTimeout: Bool
        /// Shortest first deadline, seconds.
        public var minTimeout: Double
        /// The line counts as dead (and requests give up after `maxAttempts`) once nothing
        /// has come back from the device for this many seconds.
        public var silence: Double

        public init(
            window: Int = 8, timeout: Double = 0.2, maxAttempts: Int = 3, backoff: Double = 2, maxTimeout: Double = 2,
            noisyAttempts: Int = 10, fastRetransmit: Bool = true, adaptiveFirstTimeout: Bool = true,
            minTimeout: Double = 0.002, silence: Double = 1
        ) {
            self.window = min(max(window, 1), 32_768)
            self.timeout = timeout
            self.maxAttempts = max(maxAttempts, 1)
            self.backoff = backoff
            self.maxTimeout = maxTimeout
            self.noisyAttempts = max(noisyAttempts, self.maxAttempts)
            self.fastRetransmit = fastRetransmit
            self.adaptiveFirstTimeout = adaptiveFirstTimeout
            self.minTimeout = minTimeout
            self.silence = silence
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
        /// Replies whose seq is in flight but whose type does not answer that request
        /// (dropped; the request keeps waiting). Never delivered as an answer.
        public var mismatchedReplies = 0
        /// Retransmissions sent early because a later request was answered first.
        public var fastRetransmissions = 0
        /// Retransmissions sent early because a damaged frame arrived where a reply was due.
        public var damageRetransmissions = 0
        public init() {}
    }

    private struct Pending: Sendable {
        var frame: Frame
        var policy: RetryPolicy
        var firstSent: Double
        var deadline: Double
        var attempts: Int
        var baseTimeout: Double
        /// Order of the first and of the latest transmission among all frames sent.
        var firstSend: UInt64
        var lastSend: UInt64
        var lastSentAt: Double
        /// Attempts whose deadline was shortened to the link's round trip (each waits
        /// `rto × backoff^k`); they do not count against the attempt limit, and the full
        /// schedule resumes once it is the shorter.
        var shortAttempts: Int
        /// Attempts re-sent because a damaged frame arrived where their reply was due: the
        /// device got them and answered, the line spoilt the answer. Up to
        /// ``RequestTracker/maxDamageAttempts`` of them do not count against the limit.
        var damageAttempts = 0
    }

    /// The configuration in force.
    public let configuration: Configuration
    /// Counters so far.
    public private(set) var statistics = Statistics()
    private var pending: [UInt16: Pending] = [:]
    private var nextSeq: UInt16
    private var recent: [UInt16] = []  // recently finished seqs, oldest first
    private static let recentCapacity = 64
    private var sendCounter: UInt64 = 0
    /// The latest first transmission that has been answered: requests last sent before it
    /// were overtaken (lost).
    private var answeredThrough: UInt64 = 0
    private var lastActivity = -Double.infinity
    /// Smoothed round trip and its mean deviation per request type (first attempts only).
    private var roundTrips: [FrameType: (mean: Double, deviation: Double)] = [:]

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
    /// The seq the next request will get (unless it is still in flight). A new session on
    /// the same board continues from here, so a late reply to the old session can never
    /// match a new request.
    public var upcomingSeq: UInt16 { nextSeq }

    /// Tells the tracker that the device is alive: a frame (valid or damaged) arrived.
    /// Requests then get `noisyAttempts` instead of `maxAttempts`.
    public mutating func noteLineActivity(now: Double) {
        lastActivity = max(lastActivity, now)
    }

    /// Whether `reply` (type and flags) can answer a request of type `request`: the same
    /// type, an error reply, or `bulkAck` for `bulkChunk` (§4).
    public static func answers(_ reply: Frame, request: FrameType) -> Bool {
        if reply.flags.contains(.error) { return reply.type == .error }
        if request == .bulkChunk { return reply.type == .bulkAck }
        return reply.type == request
    }

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
        sendCounter += 1
        var p = Pending(
            frame: frame, policy: retry, firstSent: now, deadline: now, attempts: 1, baseTimeout: base,
            firstSend: sendCounter, lastSend: sendCounter, lastSentAt: now, shortAttempts: 0)
        p.deadline = now + nextWait(&p)
        pending[frame.seq] = p
        statistics.sent += 1
        return frame
    }

    /// Offers a received frame. Returns `.completed` when it answers a request in flight
    /// (same seq, and a type that answers the request's type); nil for non-replies and for
    /// unknown, duplicate or mismatched replies (counted, dropped).
    public mutating func receive(_ frame: Frame, now: Double) -> Event? {
        guard frame.flags.contains(.reply) else { return nil }
        guard let p = pending[frame.seq] else {
            if recent.contains(frame.seq) {
                statistics.duplicateReplies += 1
            } else {
                statistics.unknownReplies += 1
            }
            return nil
        }
        guard Self.answers(frame, request: p.frame.type) else {
            statistics.mismatchedReplies += 1
            return nil
        }
        pending[frame.seq] = nil
        answeredThrough = max(answeredThrough, p.firstSend)
        if p.attempts == 1 {  // Karn: only unambiguous samples
            let sample = now - p.firstSent
            if let rt = roundTrips[p.frame.type] {
                let deviation = 0.75 * rt.deviation + 0.25 * abs(sample - rt.mean)
                roundTrips[p.frame.type] = (0.875 * rt.mean + 0.125 * sample, deviation)
            } else {
                roundTrips[p.frame.type] = (sample, sample / 2)
            }
        }
        remember(frame.seq)
        statistics.completed += 1
        if frame.flags.contains(.error) { statistics.errorReplies += 1 }
        return .completed(
            seq: frame.seq, request: p.frame.type, reply: frame, attempts: p.attempts, roundTrip: now - p.firstSent)
    }

    /// Handles every deadline at or before `now` — retransmissions and timeouts, in the
    /// order of their deadlines — and re-sends overtaken requests (fast retransmission).
    public mutating func poll(now: Double) -> [Event] {
        var events: [Event] = []
        if configuration.fastRetransmit {
            let overtaken = pending.filter {
                $0.value.lastSend < answeredThrough && $0.value.policy != .never && $0.value.deadline > now
                    && $0.value.attempts < attemptLimit($0.value, now: now)
            }.sorted { $0.value.lastSend < $1.value.lastSend }
            for (seq, p) in overtaken {
                statistics.fastRetransmissions += 1
                events.append(.retransmit(retransmit(seq, p, now: now)))
            }
        }
        let due = pending.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
        for (seq, p) in due {
            if p.policy != .never && p.attempts < attemptLimit(p, now: now) {
                events.append(.retransmit(retransmit(seq, p, now: now)))
            } else {
                pending[seq] = nil
                remember(seq)
                statistics.timeouts += 1
                events.append(.timedOut(seq: seq, request: p.frame.type, attempts: p.attempts, waited: now - p.firstSent))
            }
        }
        return events
    }

    /// A damaged frame (a CRC failure that began like a frame of this protocol) arrived from
    /// the device. Devices answer in arrival order (§6), so it was most likely the reply to
    /// the request that has waited longest: that request is re-sent at once — the device
    /// answers the copy from its de-duplication cache (§8) — instead of after its deadline.
    /// Each damaged frame re-sends at most one request, and a request already re-sent since
    /// the frame could have been its reply (less than half its type's smoothed round trip
    /// ago) is left alone. Off with `fastRetransmit` (a device that may answer out of order).
    public mutating func damagedFrameArrived(now: Double) -> [Event] {
        guard configuration.fastRetransmit else { return [] }
        let candidates = pending.filter { entry in
            let p = entry.value
            guard p.policy != .never, p.attempts < attemptLimit(p, now: now) else { return false }
            let rtt = roundTrips[p.frame.type]?.mean ?? 0
            return now - p.lastSentAt >= rtt / 2
        }
        guard let (seq, p) = candidates.min(by: { $0.value.lastSend < $1.value.lastSend }) else { return [] }
        statistics.damageRetransmissions += 1
        var counted = p
        counted.damageAttempts += 1
        return [.retransmit(retransmit(seq, counted, now: now))]
    }

    /// Forgets every request in flight (e.g. the link was closed) and returns their seqs.
    public mutating func cancelAll() -> [UInt16] {
        let seqs = inFlightSeqs
        for s in seqs { remember(s) }
        pending.removeAll()
        return seqs
    }

    /// `maxAttempts`, or `noisyAttempts` while the device shows life: something came back
    /// since the request's last attempt or within the last `silence` seconds.
    private func attemptLimit(_ p: Pending, now: Double) -> Int {
        // Shortened attempts do not count: the full schedule still follows them.
        (lastActivity > p.lastSentAt || lastActivity > now - configuration.silence
            ? configuration.noisyAttempts : configuration.maxAttempts) + p.shortAttempts
            + min(p.damageAttempts, Self.maxDamageAttempts)
    }

    /// Most attempts per request that a damaged answer keeps from counting: a long reply on
    /// a line that spoils a third of such frames may need a dozen tries, each costing only a
    /// round trip.
    static let maxDamageAttempts = 32

    private mutating func retransmit(_ seq: UInt16, _ p: Pending, now: Double) -> Frame {
        var p = p
        p.attempts += 1
        p.frame.flags.insert(.retransmission)
        p.deadline = now + nextWait(&p)
        sendCounter += 1
        p.lastSend = sendCounter
        p.lastSentAt = now
        pending[seq] = p
        statistics.retransmissions += 1
        return p.frame
    }

    /// The wait after the attempt just made (`p.attempts`): the full schedule's, or — while
    /// the link has shown its round trip for this request type and that is the shorter —
    /// `rto × backoff^k` for the k-th shortened attempt, rto = smoothed round trip + 4 × its
    /// deviation + 1 ms (at least `minTimeout`, 2 ms). On a lossy line a lost frame then costs
    /// about one round trip, not the slow-command schedule; a slow command costs a few
    /// early re-sends, which the device answers from its cache.
    private func nextWait(_ p: inout Pending) -> Double {
        let full = timeout(attempt: p.attempts - p.shortAttempts, base: p.baseTimeout)
        // Only before the first full-schedule wait (once the schedule has resumed, it stays),
        // and never for a request that is not re-sent: its one deadline is the caller's.
        guard configuration.adaptiveFirstTimeout, p.policy != .never, p.shortAttempts < Self.maxShortAttempts,
            p.attempts - p.shortAttempts == 1, let rt = roundTrips[p.frame.type]
        else { return full }
        var short = max(configuration.minTimeout, rt.mean + 4 * rt.deviation + 0.001)
        for _ in 0..<p.shortAttempts { short *= configuration.backoff }
        guard short < full else { return full }
        p.shortAttempts += 1
        return short
    }

    /// Most shortened attempts per request.
    static let maxShortAttempts = 6

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
