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

    /// Runs probes (every one checked before any is sent) and hands their results to
    /// `deliver` in batches, in order. The device runs the probes in chunks of half the
    /// stream window, one chunk measuring while the previous one is delivered, so it is never
    /// more than `streamWindow` probes ahead of `deliver` (backpressure), and other callers'
    /// operations can run between chunks. When `deliver` throws (the client went away), the
    /// chunk already started finishes — each probe restores its parameters — and nothing
    /// more is run.
    public func stream(
        _ probes: [Probe], policy: SafetyPolicy, lease id: String,
        deliver: @escaping @Sendable ([ProbeResult]) async throws -> Void
    ) async throws {
        try requireLease(id, for: "streaming probes")
        let guardian = SafetyGuard(substrate.descriptor)
        var safe: [Probe] = []
        safe.reserveCapacity(probes.count)
        for probe in probes { safe.append(try guardian.checkProbe(probe, policy: policy)) }
        let chunkSize = max(1, streamWindow / 2)
        func measure(_ range: Range<Int>) -> Task<[ProbeResult], any Error> {
            let chunk = Array(safe[range])
            return Task {
                try await self.exclusive { substrate in
                    var results: [ProbeResult] = []
                    results.reserveCapacity(chunk.count)
                    for try await result in substrate.uncheckedStream(chunk) { results.append(result) }
                    return results
                }
            }
        }
        var start = min(chunkSize, safe.count)
        var running = measure(0..<start)
        while true {
            let results = try await running.value
            try Task.checkCancellation()
            let next = start < safe.count ? measure(start..<min(start + chunkSize, safe.count)) : nil
            start = min(start + chunkSize, safe.count)
            do {
                if !results.isEmpty { try await deliver(results) }
            } catch {
                _ = try? await next?.value
                throw error
            }
            guard let next else { return }
            running = next
        }
    }

    // MARK: Optional capabilities (checked here, as a local caller's would be)

    /// Holds inputs on a clampable device (checked against the input range).
    public func applyInputs(_ inputs: [Double], lease id: String) async throws {
        try requireLease(id, for: "holding inputs")
        let device = try capability(.clampable, as: (any Clampable).self, "holding inputs")
        try await exclusive { _ in try await device.applyInputs(inputs) }
    }

    /// Imposes an output boundary condition (shape, η and targets checked).
    public func setClamp(_ setting: ClampSetting, lease id: String) async throws {
        try requireLease(id, for: "clamping outputs")
        let device = try capability(.clampable, as: (any Clampable).self, "clamping outputs")
        try await exclusive { _ in try await device.setClamp(setting) }
    }

    /// Runs the device's own learning rule (duration checked).
    public func learn(seconds: Double, lease id: String) async throws {
        try requireLease(id, for: "learning")
        let device = try capability(.selfLearning, as: (any SelfLearning).self, "learning")
        try await exclusive { _ in try await device.learn(seconds: seconds) }
    }

    /// Every node voltage of one side (a read: no lease).
    public func readNodes(_ side: NetworkSide) async throws -> [Double] {
        let device = try capability(.nodeReadout, as: (any NodeReadout).self, "reading node voltages")
        return try await exclusive { _ in try await device.readNodes(side) }
    }

    /// Per-parameter element strains of one side (a read: no lease).
    public func elementStrains(_ side: NetworkSide) async throws -> [Double] {
        guard let device = substrate as? any ElementStrainReadout else {
            throw SubstrateError.missingCapability("element strains", device: substrate.descriptor.identity.summary)
        }
        return try await exclusive { _ in try await device.elementStrains(side) }
    }

    private func capability<T>(_ flag: Capabilities, as type: T.Type, _ purpose: String) throws -> T {
        try substrate.require(flag, as: type, for: purpose)
    }
}
