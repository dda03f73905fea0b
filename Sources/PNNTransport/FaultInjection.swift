import PNNCore

/// Wraps any link and damages the bytes crossing it per a ``FaultSpec`` — loss, bit
/// flips, duplication, delay — in both directions, each with its own seeded stream.
/// The emulator's `--faults` uses it to make a clean pty behave like a noisy cable.
public actor FaultInjectingTransport: Transport {
    private let base: any Transport
    private let faults: FaultSpec
    private var outgoing: SeededRandom
    private var incoming: SeededRandom
    /// Bytes dropped, flipped and duplicated so far (both directions).
    public private(set) var injected = (dropped: 0, flipped: 0, duplicated: 0)
    public nonisolated let description: String

    /// `base` with `faults` applied; reproducible from `seed`.
    public init(_ base: any Transport, faults: FaultSpec, seed: UInt64) {
        self.base = base
        self.faults = faults
        self.outgoing = SeededRandom.derived(seed: seed, stream: 0xFA0)
        self.incoming = SeededRandom.derived(seed: seed, stream: 0xFA1)
        self.description = "\(base.description) with faults \(faults)"
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        let damaged = Self.damage(bytes, faults, &outgoing, &injected)
        if faults.delay > .zero { try? await Task.sleep(for: faults.delay) }
        if !damaged.isEmpty { try await base.write(damaged) }
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        while true {
            let bytes = try await base.read(maxCount: maxCount, timeout: timeout)
            let damaged = Self.damage(bytes, faults, &incoming, &injected)
            if !damaged.isEmpty { return damaged }
        }
    }

    public func close() async { await base.close() }

    static func damage(
        _ bytes: [UInt8], _ faults: FaultSpec, _ rng: inout SeededRandom,
        _ counts: inout (dropped: Int, flipped: Int, duplicated: Int)
    ) -> [UInt8] {
        if faults.drop == 0 && faults.flip == 0 && faults.duplicate == 0 { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4)
        for var b in bytes {
            if faults.drop > 0, rng.uniform() < faults.drop {
                counts.dropped += 1
                continue
            }
            if faults.flip > 0, rng.uniform() < faults.flip {
                b ^= 1 << UInt8(rng.next() & 7)
                counts.flipped += 1
            }
            out.append(b)
            if faults.duplicate > 0, rng.uniform() < faults.duplicate {
                out.append(b)
                counts.duplicated += 1
            }
        }
        return out
    }
}

/// One scripted fault on one frame crossing a link, for exhaustive tests: "drop the 17th
/// frame the host sends", "flip bit 3 of byte 5 of the 40th reply". Frames are the bytes up
/// to and including each 0x00 delimiter; lone delimiters (idle fill) are not counted.
public struct FrameFault: Sendable, Equatable, CustomStringConvertible {
    /// Which way the damaged frame travels, seen from the wrapped end.
    public enum Direction: Sendable, Equatable {
        /// Frames this end writes.
        case outgoing
        /// Frames this end reads.
        case incoming
    }

    /// What happens to the frame.
    public enum Kind: Sendable, Equatable {
        /// The frame is lost.
        case drop
        /// The frame arrives twice, back to back.
        case duplicate
        /// The frame, and everything after it, is held back this long (a stalled line
        /// keeps the order of bytes).
        case delay(Duration)
        /// Byte `byte` of the frame (counted on the wire, the delimiter last) is XORed with
        /// `mask`; a byte past the end damages the delimiter.
        case corrupt(byte: Int, mask: UInt8)
    }

    public var direction: Direction
    /// Index of the frame, counted from when the fault was armed (0 = the next one).
    public var frame: Int
    public var kind: Kind

    public init(_ direction: Direction, frame: Int, _ kind: Kind) {
        self.direction = direction
        self.frame = frame
        self.kind = kind
    }

    public var description: String { "\(kind) of \(direction) frame \(frame)" }
}

/// Wraps a link and applies scripted ``FrameFault``s to single frames, in either direction,
/// while passing everything else through unchanged. Faults are armed with ``arm(_:)``;
/// frame indices count from that moment, so one session can be probed at every position.
public actor FrameFaultTransport: Transport {
    private let base: any Transport
    private var armed: [FrameFault] = []
    private var outgoingCount = 0
    private var incomingCount = 0
    private var partialIn: [UInt8] = []
    private var readyIn: [UInt8] = []
    private var heldIn: [UInt8] = []
    private var heldUntil: ContinuousClock.Instant?
    /// Faults applied so far.
    public private(set) var applied: [FrameFault] = []
    public nonisolated let description: String

    public init(_ base: any Transport) {
        self.base = base
        self.description = "\(base.description) with scripted frame faults"
    }

    /// Arms `faults` (indices counted from now, per direction); earlier faults not yet
    /// applied are dropped.
    public func arm(_ faults: [FrameFault]) {
        armed = faults
        outgoingCount = 0
        incomingCount = 0
        sizes = ([], [])
    }

    /// Frames counted in each direction since the last ``arm(_:)``.
    public var counts: (outgoing: Int, incoming: Int) { (outgoingCount, incomingCount) }
    /// Wire sizes (delimiter included) of the frames counted since the last ``arm(_:)``.
    public private(set) var sizes: (outgoing: [Int], incoming: [Int]) = ([], [])

    private func take(_ direction: FrameFault.Direction, index: Int) -> FrameFault? {
        guard let i = armed.firstIndex(where: { $0.direction == direction && $0.frame == index }) else { return nil }
        let f = armed.remove(at: i)
        applied.append(f)
        return f
    }

    /// Splits `bytes` into frames ending at each 0x00 (the tail, if any, is returned as rest).
    private static func frames(_ bytes: [UInt8]) -> (frames: [[UInt8]], rest: [UInt8]) {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        for b in bytes {
            current.append(b)
            if b == 0 {
                out.append(current)
                current = []
            }
        }
        return (out, current)
    }

    private static func corrupt(_ frame: [UInt8], byte: Int, mask: UInt8) -> [UInt8] {
        var f = frame
        f[min(max(byte, 0), f.count - 1)] ^= mask
        return f
    }

    public func write(_ bytes: [UInt8]) async throws(TransportError) {
        let (frames, rest) = Self.frames(bytes)
        var out: [UInt8] = []
        for frame in frames {
            if frame == [0] {
                out += frame
                continue
            }
            let index = outgoingCount
            outgoingCount += 1
            sizes.outgoing.append(frame.count)
            switch take(.outgoing, index: index)?.kind {
            case nil: out += frame
            case .drop: break
            case .duplicate: out += frame + frame
            case .corrupt(let byte, let mask): out += Self.corrupt(frame, byte: byte, mask: mask)
            case .delay(let d):
                if !out.isEmpty { try await base.write(out) }
                out = frame
                try? await Task.sleep(for: d)
            }
        }
        out += rest
        if !out.isEmpty { try await base.write(out) }
    }

    public func read(maxCount: Int, timeout: Duration) async throws(TransportError) -> [UInt8] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let until = heldUntil, clock.now >= until {
                readyIn += heldIn
                heldIn = []
                heldUntil = nil
            }
            if !readyIn.isEmpty {
                let n = min(maxCount, readyIn.count)
                let out = Array(readyIn.prefix(n))
                readyIn.removeFirst(n)
                return out
            }
            let now = clock.now
            if now >= deadline { throw .timeout(timeout) }
            var wait = deadline - now
            if let until = heldUntil { wait = min(wait, until - now) }
            let bytes: [UInt8]
            do throws(TransportError) {
                bytes = try await base.read(maxCount: maxCount, timeout: max(wait, .milliseconds(1)))
            } catch .timeout {
                continue
            }
            let (frames, rest) = Self.frames(partialIn + bytes)
            partialIn = rest
            for frame in frames {
                var piece: [UInt8]
                if frame == [0] {
                    piece = frame
                } else {
                    let index = incomingCount
                    incomingCount += 1
                    sizes.incoming.append(frame.count)
                    switch take(.incoming, index: index)?.kind {
                    case nil: piece = frame
                    case .drop: piece = []
                    case .duplicate: piece = frame + frame
                    case .corrupt(let byte, let mask): piece = Self.corrupt(frame, byte: byte, mask: mask)
                    case .delay(let d):
                        piece = []
                        heldIn += frame
                        heldUntil = max(heldUntil ?? clock.now, clock.now + d)
                    }
                }
                if heldUntil != nil { heldIn += piece } else { readyIn += piece }
            }
        }
    }

    public func close() async { await base.close() }
}
