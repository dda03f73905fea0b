import PNNCore
import Synchronization

/// The shared medium between the two ends of a ``MemoryLink`` pair.
final class MemoryWire: Sendable {
    struct Chunk {
        var bytes: ArraySlice<UInt8>
        var readyAt: ContinuousClock.Instant
    }
    struct State {
        /// Pending data per receiving side (0 or 1).
        var inbox: [[Chunk]] = [[], []]
        var closedReason: String?
    }
    let state = Mutex(State())

    func close(_ reason: String) {
        state.withLock { s in
            if s.closedReason == nil { s.closedReason = reason }
            s.inbox = [[], []]
        }
    }
}

/// One end of an in-memory byte link with seeded fault injection, for tests and twins.
///
/// Each direction applies its ``FaultSpec`` byte by byte with its own random stream, so a
/// run is reproducible from the seed. Reads poll the shared buffer every ~0.5 ms.
public actor MemoryLink: Transport {
    private let side: Int
    private let wire: MemoryWire
    private let faults: FaultSpec
    private var rng: SeededRandom
    public nonisolated let description: String

    init(side: Int, wire: MemoryWire, faults: FaultSpec, seed: UInt64) {
        self.side = side
        self.wire = wire
        self.faults = faults
        self.rng = SeededRandom.derived(seed: seed, stream: UInt64(side) &+ 0x6D656D)
        self.description = "memory link end \(side == 0 ? "A" : "B") (\(faults))"
    }

    /// Two connected ends; `faults` applies to both directions, each with its own stream.
    public static func pair(faults: FaultSpec = .none, seed: UInt64) -> (MemoryLink, MemoryLink) {
        let wire = MemoryWire()
        return (
            MemoryLink(side: 0, wire: wire, faults: faults, seed: seed),
            MemoryLink(side: 1, wire: wire, faults: faults, seed: seed)
        )
    }

    /// Simulate unplugging the cable: both ends throw `.closed("device unplugged")`.
    public func disconnect() {
        wire.close("device unplugged")
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        if let why = wire.state.withLock({ $0.closedReason }) { throw .closed(why) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for var b in bytes {
            if faults.drop > 0, rng.uniform() < faults.drop { continue }
            if faults.flip > 0, rng.uniform() < faults.flip { b ^= 1 << UInt8(rng.next() & 7) }
            out.append(b)
            if faults.duplicate > 0, rng.uniform() < faults.duplicate { out.append(b) }
        }
        if out.isEmpty { return }
        let chunk = MemoryWire.Chunk(bytes: out[...], readyAt: .now + faults.delay)
        let peer = 1 - side
        let closed: String? = wire.state.withLock { s in
            if let why = s.closedReason { return why }
            s.inbox[peer].append(chunk)
            return nil
        }
        if let closed { throw .closed(closed) }
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        precondition(maxCount > 0, "maxCount must be positive")
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let me = side
        while true {
            let now = clock.now
            let result: Result<[UInt8], TransportError> = wire.state.withLock { s in
                if let why = s.closedReason { return .failure(.closed(why)) }
                var got: [UInt8] = []
                while got.count < maxCount, let head = s.inbox[me].first, head.readyAt <= now {
                    let take = min(maxCount - got.count, head.bytes.count)
                    got.append(contentsOf: head.bytes.prefix(take))
                    if take == head.bytes.count {
                        s.inbox[me].removeFirst()
                    } else {
                        s.inbox[me][0].bytes = head.bytes.dropFirst(take)
                    }
                }
                return .success(got)
            }
            let got = try result.get()
            if !got.isEmpty { return got }
            if now >= deadline { throw .timeout(timeout) }
            do {
                try await Task.sleep(for: min(.microseconds(500), deadline - now))
            } catch {
                throw .cancelled
            }
        }
    }

    /// Close this end; the peer sees `.closed("closed by peer")`.
    public func close() async {
        wire.close("closed by peer")
    }
}
