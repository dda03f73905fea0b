import Foundation
import PNNCore

/// One device `pnnlab serve` exposes: the actor that serialises every operation on it
/// (one at a time, in arrival order, each run to completion even if its caller goes away)
/// and keeps its write lease. Reads (describe, read back, measure) need no lease; anything
/// that changes the device (program, probes, safe state) needs the lease, which one client
/// holds at a time. Every value is checked against the device's own safe ranges here, on
/// the server, whatever the client checked.
public actor ServedDevice {
    /// The NAME clients use (`remote://HOST:PORT/NAME`).
    public nonisolated let name: String
    /// Where the server opened it (`sim:crossbar`, a registered name, a port).
    public nonisolated let source: String
    /// The device.
    public nonisolated let substrate: any Substrate
    /// Probes run ahead of what the client has read by at most this many (backpressure).
    public nonisolated let streamWindow: Int

    /// Who holds the write lease.
    public struct Lease: Sendable, Equatable {
        public var id: String
        public var holder: String
        public var since: Date
    }

    private(set) var lease: Lease?
    private var leaseEnded: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(name: String, source: String, substrate: any Substrate, streamWindow: Int = 16) {
        self.name = name
        self.source = source
        self.substrate = substrate
        self.streamWindow = max(1, streamWindow)
    }

    /// The lease holder, if any.
    public var currentLease: Lease? { lease }

    // MARK: Lease

    /// Grants the write lease to `holder`, or refuses with who holds it.
    public func acquire(holder: String) throws(RemoteError) -> String {
        if let lease {
            throw .leased(device: name, holder: lease.holder, since: ISO8601DateFormatter().string(from: lease.since))
        }
        let id = UUID().uuidString
        lease = Lease(id: id, holder: holder.isEmpty ? "another client" : holder, since: Date())
        return id
    }

    /// Ends lease `id` (a no-op when it has already ended).
    public func release(_ id: String) {
        guard lease?.id == id else { return }
        lease = nil
        for waiter in leaseEnded.removeValue(forKey: id) ?? [] { waiter.resume() }
    }

    /// Returns when lease `id` has ended (at once if it is not the current lease).
    func waitUntilReleased(_ id: String) async {
        guard lease?.id == id else { return }
        await withCheckedContinuation { leaseEnded[id, default: []].append($0) }
    }

    /// Throws unless `id` is the current lease.
    func requireLease(_ id: String, for operation: String) throws(RemoteError) {
        guard let lease, !id.isEmpty, lease.id == id else { throw .needsLease(device: name, operation: operation) }
    }

    // MARK: Serialised device access

    /// Runs `work` on the device when every earlier operation has finished. The work runs in
    /// its own task, so a caller that goes away (a killed client) never cuts it short.
    func exclusive<T: Sendable>(_ work: @escaping @Sendable (any Substrate) async throws -> T) async throws -> T {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        let substrate = self.substrate
        return try await Task { try await work(substrate) }.value
    }

    /// Programs every parameter (checked against its safe range) and returns the read-back.
    public func program(_ targets: [Double], policy: SafetyPolicy, lease id: String) async throws -> [Double] {
        try requireLease(id, for: "programming parameters")
        return try await exclusive { try await $0.setParameters(targets, policy: policy) }
    }

    /// Reads the parameters back (a measurement).
    public func readParameters() async throws -> [Double] {
        try await exclusive { try await $0.readParameters() }
    }

    /// Measures a batch (inputs checked against their safe range).
    public func measure(_ inputs: Matrix, policy: SafetyPolicy) async throws -> Matrix {
        try await exclusive { try await $0.measure(inputs, policy: policy) }
    }

    /// Puts the device in its safe state.
    public func enterSafeState(lease id: String) async throws {
        try requireLease(id, for: "the safe state")
        try await exclusive { try await $0.enterSafeState() }
    }

    /// Runs probes (every one checked before any is sent) and hands each result to `deliver`
    /// as soon as it is measured. The device runs at most `streamWindow` probes ahead of
    /// `deliver`; when `deliver` throws (the client went away), the probes already started
    /// finish — each restores its parameters — and nothing more is sent.
    public func stream(
        _ probes: [Probe], policy: SafetyPolicy, lease id: String,
        deliver: @escaping @Sendable (ProbeResult) async throws -> Void
    ) async throws {
        try requireLease(id, for: "streaming probes")
        let guardian = SafetyGuard(substrate.descriptor)
        var safe: [Probe] = []
        safe.reserveCapacity(probes.count)
        for probe in probes { safe.append(try guardian.checkProbe(probe, policy: policy)) }
        let window = streamWindow
        var start = 0
        while start < safe.count {
            try Task.checkCancellation()
            let chunk = Array(safe[start..<min(start + window, safe.count)])
            start += chunk.count
            let (results, sink) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
            let device = Task {
                try await self.exclusive { substrate in
                    do {
                        for try await result in substrate.uncheckedStream(chunk) { sink.yield(result) }
                        sink.finish()
                    } catch {
                        sink.finish(throwing: error)
                        throw error
                    }
                }
            }
            do {
                for try await result in results { try await deliver(result) }
                try Task.checkCancellation()
            } catch {
                _ = try? await device.value
                throw error
            }
            try await device.value
        }
    }
}
