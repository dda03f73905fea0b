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
