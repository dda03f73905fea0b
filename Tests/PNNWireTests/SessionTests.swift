import PNNCore
import Testing

@testable import PNNWire

@Suite struct RequestTrackerTests {
    func reply(to f: Frame) -> Frame { Frame(type: f.type, seq: f.seq, flags: .reply, payload: f.payload) }

    @Test func windowLimitsInFlight() throws {
        var t = RequestTracker(configuration: .init(window: 3))
        let frames = try (0..<3).map { _ throws(TrackerError) in try t.send(type: .ping, retry: .idempotent, now: 0) }
        #expect(frames.map(\.seq) == [0, 1, 2])
        #expect(!t.canSend)
        #expect(throws: TrackerError.windowFull(limit: 3)) { try t.send(type: .ping, retry: .never, now: 0) }
        // Replies out of order free slots.
        guard case .completed(let seq, _, _, let attempts, let rtt)? = t.receive(reply(to: frames[2]), now: 0.01) else {
            Issue.record("no completion")
            return
        }
        #expect(seq == 2 && attempts == 1 && rtt == 0.01)
        #expect(t.canSend && t.inFlight == 2)
    }

    @Test func seqWrapsAt65535AndSkipsInFlight() throws {
        var t = RequestTracker(configuration: .init(window: 4), firstSeq: 65_534)
        let a = try t.send(type: .ping, retry: .never, now: 0)
        let b = try t.send(type: .ping, retry: .never, now: 0)
        let c = try t.send(type: .ping, retry: .never, now: 0)
        #expect([a.seq, b.seq, c.seq] == [65_534, 65_535, 0])
        #expect(t.receive(reply(to: c), now: 0) != nil)
        #expect(t.receive(reply(to: b), now: 0) != nil)
        // Run the counter all the way round: it must skip 65534 (still in flight).
        for _ in 0..<65_535 {
            let f = try t.send(type: .ping, retry: .never, now: 0)
            #expect(f.seq != a.seq)
            _ = t.receive(reply(to: f), now: 0)
        }
        #expect(t.inFlightSeqs == [65_534])
    }

    @Test func unknownAndDuplicateRepliesAreDropped() throws {
        var t = RequestTracker()
        let f = try t.send(type: .ping, retry: .never, now: 0)
        #expect(t.receive(reply(to: f), now: 0.001) != nil)
        #expect(t.receive(reply(to: f), now: 0.002) == nil)
        #expect(t.receive(Frame(type: .ping, seq: 999, flags: .reply), now: 0.002) == nil)
        #expect(t.receive(Frame(type: .streamData, seq: 0, flags: .stream), now: 0.002) == nil)
        #expect(t.statistics.duplicateReplies == 1 && t.statistics.unknownReplies == 1 && t.statistics.completed == 1)
    }

    @Test func timeoutRetriesOnlyRetryableRequests() throws {
        var t = RequestTracker(configuration: .init(window: 8, timeout: 0.125, maxAttempts: 3, backoff: 2, maxTimeout: 1))
        let read = try t.send(type: .ping, retry: .idempotent, now: 0)
        let write = try t.send(type: .family(1)!, payload: [7], retry: .deduplicated, now: 0)
        let once = try t.send(type: .family(2)!, retry: .never, now: 0)
        #expect(t.poll(now: 0.12).isEmpty)
        #expect(t.nextDeadline == 0.125)
        let first = t.poll(now: 0.125)
        #expect(first.count == 3)
        #expect(first.contains(.retransmit(Frame(type: .ping, seq: read.seq, flags: .retransmission))))
        #expect(first.contains(.retransmit(Frame(type: .family(1)!, seq: write.seq, flags: .retransmission, payload: [7]))))
        #expect(first.contains(.timedOut(seq: once.seq, request: .family(2)!, attempts: 1, waited: 0.125)))
        // Backoff: the second retry is due 0.25 s after the first.
        #expect(t.poll(now: 0.37).isEmpty)
        #expect(t.poll(now: 0.375).count == 2)
        // Third attempt waits 0.5 s, then the requests time out after 3 attempts.
        #expect(t.poll(now: 0.87).isEmpty)
        let last = t.poll(now: 0.875)
        #expect(last.count == 2 && last.allSatisfy { if case .timedOut(_, _, 3, _) = $0 { true } else { false } })
        #expect(t.inFlight == 0 && t.statistics.timeouts == 3 && t.statistics.retransmissions == 4)
        // A late reply after the timeout is counted as a duplicate, not delivered.
        #expect(t.receive(reply(to: read), now: 0.9) == nil)
        #expect(t.statistics.duplicateReplies == 1)
    }

    /// Once a type's round trip is known (here 1 ms), a lost request is re-sent after
    /// rto = 1 ms + 4 × 0.5 ms + 5 ms → at least 20 ms, then 40, 80, 160 ms (each shorter than
    /// the 0.2 s schedule), then the full schedule; the short attempts do not count against
    /// the limit of 3, and a slow reply still completes the request.
    @Test func deadlinesFollowTheRoundTripAfterALoss() throws {
        var t = RequestTracker(
            configuration: .init(window: 8, timeout: 0.2, maxAttempts: 3, backoff: 2, maxTimeout: 2, minTimeout: 0.02))
        let sample = try t.send(type: .ping, retry: .idempotent, now: 0)
        #expect(t.receive(reply(to: sample), now: 0.001) != nil)
        _ = try t.send(type: .ping, retry: .idempotent, now: 1)
        var sends: [Double] = [1]
        var now = 1.0
        while t.inFlight > 0, now < 20 {
            guard let next = t.nextDeadline else { break }
            now = next
            for event in t.poll(now: now) {
                if case .retransmit = event { sends.append(now) }
            }
        }
        let waits = zip(sends.dropFirst(), sends).map { (($0 - $1) * 1000).rounded() }
        // Four short waits (20, 40, 80, 160 ms), then the full schedule 0.2, 0.4, 0.8 s.
        #expect(waits == [20, 40, 80, 160, 200, 400], "\(waits)")
        #expect(t.statistics.timeouts == 1, "given up after 3 full-schedule attempts")
        // A request answered after three short re-sends completes normally.
        let slow = try t.send(type: .ping, retry: .idempotent, now: 10)
        for deadline in [10.02, 10.06, 10.14] { #expect(t.poll(now: deadline).count == 1) }
        guard case .completed(_, _, _, let attempts, _)? = t.receive(reply(to: slow), now: 10.2) else {
            Issue.record("the slow reply did not complete its request")
            return
        }
        #expect(attempts == 4)
    }

    /// A request that is never re-sent keeps the caller's deadline: shortening it to the
    /// round trip would only make it time out early.
    @Test func aNeverRetriedRequestKeepsItsDeadline() throws {
        var t = RequestTracker(configuration: .init(window: 8, timeout: 0.2))
        let sample = try t.send(type: .ping, retry: .idempotent, now: 0)
        #expect(t.receive(reply(to: sample), now: 0.001) != nil)
        _ = try t.send(type: .ping, retry: .never, now: 1, timeout: 5)
        #expect(t.nextDeadline == 6)
        #expect(t.poll(now: 1.5).isEmpty)
    }

    @Test func repliesOfAnotherTypeNeverComplete() throws {
        var t = RequestTracker()
        let probe = try t.send(type: .family(8)!, retry: .deduplicated, now: 0)
        // Same seq, wrong type: dropped and counted, the request keeps waiting.
        #expect(t.receive(Frame(type: .family(7)!, seq: probe.seq, flags: .reply, payload: [1]), now: 0.01) == nil)
        #expect(t.receive(Frame(type: .error, seq: probe.seq, flags: .reply), now: 0.01) == nil)  // error without the error flag
        #expect(t.statistics.mismatchedReplies == 2 && t.inFlight == 1)
        guard case .completed(_, let type, _, _, _)? = t.receive(reply(to: probe), now: 0.02) else {
            Issue.record("the right reply was not matched")
            return
        }
        #expect(type == .family(8)!)
        let chunk = try t.send(type: .bulkChunk, retry: .idempotent, now: 0)
        #expect(t.receive(Frame(type: .bulkAck, seq: chunk.seq, flags: .reply), now: 0.03) != nil)
    }

    @Test func overtakenRequestsAreResentAtOnce() throws {
        var t = RequestTracker(configuration: .init(window: 8, timeout: 1))
        let a = try t.send(type: .ping, payload: [1], retry: .idempotent, now: 0)
        let b = try t.send(type: .ping, payload: [2], retry: .idempotent, now: 0)
        let c = try t.send(type: .ping, payload: [3], retry: .never, now: 0)
        #expect(t.poll(now: 0.01).isEmpty)
        // b answered before a: a (sent before b) was lost and is re-sent now, not after 1 s.
        #expect(t.receive(reply(to: b), now: 0.02) != nil)
        let events = t.poll(now: 0.02)
        #expect(events == [.retransmit(Frame(type: .ping, seq: a.seq, flags: .retransmission, payload: [1]))])
        #expect(t.statistics.fastRetransmissions == 1)
        // Only once per overtaking: nothing more until a later request is answered.
        #expect(t.poll(now: 0.03).isEmpty)
        _ = c
    }

    /// §8 re-send on damage: a damaged frame or a device's damage notice re-sends the request
    /// that has waited longest since its last transmission — one per damaged frame, never a
    /// `never` request, never one sent too recently to be answered — and such attempts do not
    /// count against the limit.
    @Test func damageResendsTheLongestWaitingRequestAndDoesNotCount() throws {
        var t = RequestTracker(
            configuration: .init(window: 8, timeout: 1, maxAttempts: 2, backoff: 1, maxTimeout: 1, noisyAttempts: 2))
        let sample = try t.send(type: .ping, retry: .idempotent, now: 0)
        #expect(t.receive(reply(to: sample), now: 0.01) != nil)  // round trip 10 ms
        let a = try t.send(type: .ping, payload: [1], retry: .idempotent, now: 1)
        let b = try t.send(type: .ping, payload: [2], retry: .idempotent, now: 1.001)
        _ = try t.send(type: .ping, payload: [3], retry: .never, now: 1.002)
        #expect(t.damagedFrameArrived(now: 1.002).isEmpty, "nothing was sent long enough ago to be answered")
        #expect(
            t.damagedFrameArrived(now: 1.02) == [
                .retransmit(Frame(type: .ping, seq: a.seq, flags: .retransmission, payload: [1]))
            ])
        #expect(
            t.damagedFrameArrived(now: 1.021) == [
                .retransmit(Frame(type: .ping, seq: b.seq, flags: .retransmission, payload: [2]))
            ])
        // a again (b was re-sent after it), and so on: 20 damaged answers in a row do not use
        // up a limit of 2 attempts.
        for k in 0..<20 {
            let events = t.damagedFrameArrived(now: 1.04 + Double(k) * 0.02)
            #expect(events.count == 1)
        }
        #expect(t.statistics.damageRetransmissions == 22 && t.statistics.timeouts == 0)
        #expect(t.receive(reply(to: a), now: 1.5) != nil && t.receive(reply(to: b), now: 1.5) != nil)
        var off = RequestTracker(configuration: .init(fastRetransmit: false))
        _ = try off.send(type: .ping, retry: .idempotent, now: 0)
        #expect(off.damagedFrameArrived(now: 1).isEmpty, "a device that may answer out of order: no guessing")
    }

    @Test func aLiveLineGetsMoreAttemptsThanADeadOne() throws {
        let config = RequestTracker.Configuration(
            window: 8, timeout: 0.1, maxAttempts: 3, backoff: 1, maxTimeout: 0.1, noisyAttempts: 6, fastRetransmit: false)
        var dead = RequestTracker(configuration: config)
        var live = RequestTracker(configuration: config)
        _ = try dead.send(type: .ping, retry: .idempotent, now: 0)
        _ = try live.send(type: .ping, retry: .idempotent, now: 0)
        var deadAttempts = 1, liveAttempts = 1, deadGaveUp = false, liveGaveUp = false
        for step in 1...10 {
            let now = Double(step) * 0.1
            live.noteLineActivity(now: now - 0.05)  // frames keep arriving (other replies, damaged frames)
            for e in dead.poll(now: now) {
                if case .retransmit = e { deadAttempts += 1 } else { deadGaveUp = true }
            }
            for e in live.poll(now: now) {
                if case .retransmit = e { liveAttempts += 1 } else { liveGaveUp = true }
            }
        }
        #expect(deadGaveUp && deadAttempts == 3)
        #expect(liveGaveUp && liveAttempts == 6)
    }

    @Test func errorRepliesComplete() throws {
        var t = RequestTracker()
        let f = try t.send(type: .family(3)!, retry: .never, now: 0)
        let e = ErrorReply(code: .busy, message: "ramping").frame(seq: f.seq)
        guard case .completed(_, let request, let r, _, _)? = t.receive(e, now: 1) else {
            Issue.record("error reply not matched")
            return
        }
        #expect(request == .family(3)! && r.flags.contains(.error) && t.statistics.errorReplies == 1)
    }
}

@Suite struct StreamAndDedupTests {
    @Test func streamGapsAreCounted() throws {
        var s = StreamTracker()
        #expect(s.record(streamID: 0, seq: 65_533) == 0)
        #expect(s.record(streamID: 0, seq: 65_534) == 0)
        #expect(s.record(streamID: 0, seq: 1) == 2)  // 65535 and 0 missing, across the wrap
        #expect(s.record(streamID: 0, seq: 1) == 0)  // duplicate
        #expect(s.record(streamID: 0, seq: 0) == 0)  // late
        #expect(s.record(streamID: 1, seq: 100) == 0)
        #expect(s.record(StreamData(streamID: 1, data: [1, 2]).frame(seq: 105)) == 4)
        #expect(
            s.streams[0]
                == {
                    var c = StreamTracker.Counters(); c.received = 5; c.lost = 2; c.outOfOrder = 2; return c
                }())
        #expect(s.total.lost == 6 && s.total.received == 7)
        #expect(try StreamData.decode([1, 2, 3]) == StreamData(streamID: 1, data: [2, 3]))
    }

    @Test func deduplicatorReturnsCachedReply() {
        var d = Deduplicator(capacity: 2)
        let write = Frame(type: .family(1)!, seq: 10, payload: [1])
        #expect(d.cachedReply(for: write) == nil)
        let r = Frame(type: .family(1)!, seq: 10, flags: .reply, payload: [42])
        d.remember(request: write, reply: r)
        // A copy of the request (duplicated by the line) or a retransmission gets the cached reply.
        #expect(d.cachedReply(for: write) == r)
        var again = write
        again.flags.insert(.retransmission)
        #expect(d.cachedReply(for: again) == r)
        #expect(d.hits == 2)
        // Same seq and type with another payload is another request: executed, never a stale reply.
        var other = again
        other.payload = [2]
        #expect(d.cachedReply(for: other) == nil)
        var otherType = again
        otherType.type = .family(2)!
        #expect(d.cachedReply(for: otherType) == nil)
        // Evicted after `capacity` newer requests.
        for s: UInt16 in 11...12 {
            d.remember(request: Frame(type: .ping, seq: s), reply: Frame(type: .ping, seq: s, flags: .reply))
        }
        #expect(d.cachedReply(for: again) == nil)
    }
}
