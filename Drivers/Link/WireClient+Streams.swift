import PNNWire

/// Subscriptions to what the device sends unasked: stream frames (§9) and replies that
/// match no request of this client.
extension WireClient {
    /// Frames of device-pushed stream `id`, from now on. One subscriber per stream.
    public func subscribe(stream id: UInt8) -> AsyncStream<StreamData> {
        startReader()
        let (stream, continuation) = AsyncStream<StreamData>.makeStream()
        subscribers[id]?.finish()
        subscribers[id] = continuation
        return stream
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

    /// Stops delivering stream `id`.
    public func unsubscribe(stream id: UInt8) {
        subscribers.removeValue(forKey: id)?.finish()
    }
}
