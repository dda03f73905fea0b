import PNNTransport
import PNNWire
import Synchronization

/// Subscriptions to what the device sends unasked: stream frames (§9) and replies that
/// match no request of this client.
extension WireClient {
    /// Frames of device-pushed stream `id`, from now on. One subscriber per stream.
    ///
    /// The frames wait in an inbox until the consumer takes them. A consumer that finds it
    /// empty while the stream flows (a frame came within ``Configuration/inlineReplyWait``)
    /// reads the port itself, on its own thread, for up to that wait: a fast stream then
    /// costs no hand-off between a reader thread and the consumer per frame. Otherwise it
    /// parks and the background reader delivers.
    public func subscribe(stream id: UInt8) -> AsyncStream<StreamData> {
        startReader()
        let inbox = StreamInbox()
        subscribers[id]?.end()
        subscribers[id] = inbox
        if failure != nil { inbox.end() }
        return AsyncStream(
            unfolding: { [weak self] in
                if let self { return await self.nextStreamData(from: inbox) }
                if case .frame(let data) = inbox.take() { return data }
                return nil
            }, onCancel: { inbox.end() })
    }

    /// The consumer's next frame: from the inbox, else read inline while the stream flows,
    /// else parked until the background reader delivers one (nil: the subscription ended).
    func nextStreamData(from inbox: StreamInbox) async -> StreamData? {
        while true {
            switch inbox.take() {
            case .frame(let data): return data
            case .ended: return nil
            case .empty: break
            }
            if Task.isCancelled || failure != nil { return nil }
            if readStreamInline() { continue }
            await withTaskCancellationHandler {
                await withCheckedContinuation { inbox.park($0) }
            } onCancel: {
                inbox.end()
            }
        }
    }

    /// Reads what the port has, on this thread, waiting up to ``Configuration/inlineReplyWait``
    /// for it, while a stream flows; whether anything was read (or the link failed).
    private func readStreamInline() -> Bool {
        guard let direct, configuration.inlineReplyWait > 0, let seen = lastStreamFrame else { return false }
        let wait = Duration.seconds(configuration.inlineReplyWait)
        guard ContinuousClock.now - seen < wait else { return false }
        do throws(TransportError) {
            let bytes = try direct.readNow(maxCount: 1 << 16, wait: wait)
            if bytes.isEmpty { return false }
            ingest(bytes)
        } catch {
            fail(.transport(error))
        }
        return true
    }

    /// Every reply that matches no request of this client (answers to ``sendRaw(_:)``
    /// frames, duplicates, late replies), from now on. Used by the conformance suite.
    public func observeUnmatched() -> AsyncStream<Frame> {
        startReader()
        let (stream, continuation) = AsyncStream<Frame>.makeStream()
        unmatchedTap?.finish()
        unmatchedTap = continuation
        return stream
    }

    /// Hands every device-pushed bulk chunk (§11, flags `bulk | stream`) to `handler`, from
    /// now on, synchronously as it is read: chunks that crossed the line before a reply are
    /// with the handler before that reply is delivered. One handler per client.
    public func receiveBulk(_ handler: @escaping @Sendable (BulkChunk) -> Void) {
        startReader()
        bulkHandler = handler
    }

    /// Stops delivering stream `id` (frames already received are still handed out).
    public func unsubscribe(stream id: UInt8) {
        subscribers.removeValue(forKey: id)?.end()
    }
}

/// The frames of one stream subscription that its consumer has not taken yet: filled by
/// the client (whoever of its parties reads the port), emptied by the consumer.
final class StreamInbox: Sendable {
    /// What ``take()`` found.
    enum Next {
        case frame(StreamData)
        case ended
        case empty
    }

    private struct State {
        var frames: [StreamData] = []
        var head = 0
        var ended = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    /// Adds a frame and wakes a parked consumer.
    func push(_ data: StreamData) {
        let waiter = state.withLock { s in
            if s.ended { return CheckedContinuation<Void, Never>?.none }
            s.frames.append(data)
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Ends the subscription: frames already in are still taken, then ``take()`` says ended.
    func end() {
        let waiter = state.withLock { s in
            s.ended = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// The oldest frame not taken yet, or why there is none.
    func take() -> Next {
        state.withLock { s in
            guard s.head < s.frames.count else { return s.ended ? .ended : .empty }
            let data = s.frames[s.head]
            s.head += 1
            if s.head == s.frames.count {
                s.frames.removeAll(keepingCapacity: true)
                s.head = 0
            } else if s.head >= 256, 2 * s.head >= s.frames.count {
                s.frames.removeFirst(s.head)
                s.head = 0
            }
            return .frame(data)
        }
    }

    /// Holds `waiter` until a frame comes or the subscription ends (resumed at once when
    /// either already happened).
    func park(_ waiter: CheckedContinuation<Void, Never>) {
        let now = state.withLock { s in
            if s.head < s.frames.count || s.ended { return true }
            s.waiter = waiter
            return false
        }
        if now { waiter.resume() }
    }
}
