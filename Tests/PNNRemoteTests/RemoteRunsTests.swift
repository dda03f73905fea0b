import Foundation
import GRPCCore
import PNNCore
import PNNDevices
import PNNStore
import Synchronization
import Testing

@testable import PNNRemote

/// A substrate that counts its safe-state entries (to see a pause leave the device safe).
final class SafeStateCounter: Substrate, Sendable {
    let inner: any Substrate
    private let entries = Atomic<Int>(0)
    init(_ inner: any Substrate) { self.inner = inner }
    var safeStateEntries: Int { entries.load(ordering: .relaxed) }

    var descriptor: SubstrateDescriptor { inner.descriptor }
    func uncheckedProgram(_ targets: [Double]) async throws -> [Double] { try await inner.uncheckedProgram(targets) }
    func readParameters() async throws -> [Double] { try await inner.readParameters() }
    func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix { try await inner.uncheckedMeasure(inputs) }
    func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> { inner.uncheckedStream(probes) }
    func enterSafeState() async throws {
        entries.add(1, ordering: .relaxed)
        try await inner.enterSafeState()
    }
}

/// A server with a run store and the run launcher, serving one counted ideal crossbar twin.
final class RunsFixture: Sendable {
    let server: RemoteServer
    let port: Int
    let serving: Task<Void, any Error>
    let device: ServedDevice
    let counter: SafeStateCounter
    let store: RunStore
    let launcher: ServerRunLauncher
    let connection: RemoteConnection

    init() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-runs-\(UUID().uuidString).sqlite")
        store = try RunStore(path: path.path)
        let opened = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"]))
        counter = SafeStateCounter(opened.substrate)
        device = ServedDevice(name: "xbar", source: "sim:crossbar", substrate: counter)
        launcher = ServerRunLauncher(store: store)
        server = try RemoteServer(
            configuration: .init(listen: HostPort(host: "127.0.0.1", port: 0), pollInterval: .milliseconds(20)),
            devices: [device], store: store, launcher: launcher)
        (serving, port) = await server.startOnFreePort()
        connection = try RemoteConnection(server: HostPort(host: "127.0.0.1", port: port), token: nil, trustRoots: nil)
    }

    var address: RemoteDeviceAddress { RemoteDeviceAddress(server: HostPort(host: "127.0.0.1", port: port), name: "xbar") }

    func start(epochs: UInt32) async throws -> Pnnlab_V1_RunSummary {
        var request = Pnnlab_V1_StartRunRequest()
        request.device = "xbar"
        request.task = "xor"
        request.method = "gauss-newton"
        request.epochs = epochs
        request.seed = 3
        request.holder = "test"
        return try await connection.runs.startRun(request).run
    }

    func pause(_ id: Int64) async throws -> Pnnlab_V1_RunSummary {
        var request = Pnnlab_V1_PauseRunRequest()
        request.run = id
        return try await connection.runs.pauseRun(request).run
    }

    func resume(_ id: Int64) async throws -> Pnnlab_V1_RunSummary {
        var request = Pnnlab_V1_ResumeRunRequest()
        request.run = id
        return try await connection.runs.resumeRun(request).run
    }

    /// Steps streamed by WatchRun until the run stops.
    func watch(_ id: Int64) async throws -> [UInt32] {
        var request = Pnnlab_V1_WatchRunRequest()
        request.run = id
        return try await connection.runs.watchRun(request) { response in
            var steps: [UInt32] = []
            for try await step in response.messages { steps.append(step.step) }
            return steps
        }
    }

    func stop() async {
        await launcher.pauseAll()
        server.shutdown()
        _ = try? await serving.value
    }
}

@Suite("Runs over the wire: start, pause, resume (loopback)")
struct RemoteRunsTests {
    @Test(
        "StartRun trains in the server; a second writer is refused naming the run; PauseRun leaves the device safe and the run paused; ResumeRun completes it"
    )
    func startPauseResume() async throws {
        let fixture = try await RunsFixture()
        let started = try await fixture.start(epochs: 6)
        #expect(started.status == "running" && started.task == "xor" && started.method == "gauss-newton")
        // While it trains the server holds the lease: another writer is refused with the holder.
        await #expect {
            _ = try await RemoteSubstrate.open(fixture.address, holder: "bob", environment: [:])
        } throws: { error in
            guard case .refused(_, let message) = error as? RemoteError else { return false }
            return message.contains("in use") && message.contains("run started over the wire")
        }
        let safeBefore = fixture.counter.safeStateEntries
        let paused = try await fixture.pause(started.id)
        #expect(paused.status == "paused")
        #expect(fixture.counter.safeStateEntries > safeBefore)
        let record = try fixture.store.run(id: started.id)
        #expect(record.status == .paused)
        let committed = try fixture.store.steps(runID: started.id).count
        #expect(Int(paused.steps) == committed)
        #expect(await fixture.device.currentLease == nil)
        // Pausing a run that is not training says so.
        await #expect {
            _ = try await fixture.pause(started.id)
        } throws: { error in
            (error as? RPCError)?.code == .failedPrecondition && "\(error)".contains("not training")
        }
        // Resume: trains on from the checkpoint to the end (watched until it stops).
        let resumed = try await fixture.resume(started.id)
        #expect(resumed.status == "running")
        let watched = try await fixture.watch(started.id)
        await fixture.launcher.wait(run: started.id)
        let final = try fixture.store.run(id: started.id)
        #expect(final.status == .completed)
        let steps = try fixture.store.steps(runID: started.id).map(\.step)
        #expect(steps == Array(1...steps.count) || steps == Array(0..<steps.count))
        #expect(steps.count > committed)
        #expect(watched.map(Int.init) == steps)
        #expect(await fixture.device.currentLease == nil)
        await fixture.stop()
    }

    @Test("StartRun refuses an unknown device, an unknown task and a contrastive method with a clear message")
    func startRefusals() async throws {
        let fixture = try await RunsFixture()
        var request = Pnnlab_V1_StartRunRequest()
        request.device = "nope"
        request.task = "xor"
        await #expect {
            _ = try await fixture.connection.runs.startRun(request)
        } throws: { error in (error as? RPCError)?.code == .notFound && "\(error)".contains("xbar") }
        request.device = "xbar"
        request.task = "no-such-task"
        await #expect(throws: RPCError.self) { _ = try await fixture.connection.runs.startRun(request) }
        request.task = "two-task"
        request.method = "coupled"
        await #expect {
            _ = try await fixture.connection.runs.startRun(request)
        } throws: { error in (error as? RPCError)?.code == .unimplemented && "\(error)".contains("remote://") }
        #expect(await fixture.device.currentLease == nil)
        #expect(try fixture.store.runs().isEmpty)
        await fixture.stop()
    }
}

@Suite("Optional capabilities over the wire (sim:clln)")
struct RemoteCapabilityTests {
    @Test(
        "a remote CLLN twin is clampable, node-readable and self-learning; the same operations give the local twin's node voltages (1e-12); unsafe clamps are refused by the server"
    )
    func cllnForwarded() async throws {
        let served = try await DeviceCatalog.open("sim:clln", twin: .init(seed: 5)).substrate
        let local = try await DeviceCatalog.open("sim:clln", twin: .init(seed: 5)).substrate
        let device = ServedDevice(name: "clln", source: "sim:clln", substrate: served)
        let server = try RemoteServer(
            configuration: .init(listen: HostPort(host: "127.0.0.1", port: 0)), devices: [device], store: nil)
        let (bound, report) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run { report.yield($0.port) } }
        var port = 0
        for await p in bound {
            port = p
            break
        }
        let base = try await RemoteSubstrate.open(
            RemoteDeviceAddress(server: HostPort(host: "127.0.0.1", port: port), name: "clln"), environment: [:])
        let remote = try base.withCapabilities()
        #expect(remote is RemoteSelfLearningSubstrate)
        let clamp = try remote.require(.clampable, as: (any Clampable).self, for: "test")
        let nodes = try remote.require(.nodeReadout, as: (any NodeReadout).self, for: "test")
        let learner = try remote.require(.selfLearning, as: (any SelfLearning).self, for: "test")
        let localClamp = try local.require(.clampable, as: (any Clampable).self, for: "test")
        let localNodes = try local.require(.nodeReadout, as: (any NodeReadout).self, for: "test")
        let localLearner = try local.require(.selfLearning, as: (any SelfLearning).self, for: "test")
        #expect(nodes.topology == localNodes.topology)
        #expect(learner.maxLearnSeconds == localLearner.maxLearnSeconds)

        let d = local.descriptor
        let inputs = (0..<d.inputs.count).map { d.inputs.lower + (d.inputs.upper - d.inputs.lower) * (0.3 + 0.05 * Double($0)) }
        let targets = (0..<d.outputs.count).map { _ in d.outputs.lower + (d.outputs.upper - d.outputs.lower) * 0.6 }
        let setting = ClampSetting(mode: .clamped, targets: targets, eta: 0.5)
        for (c, l) in [(clamp, remote), (localClamp, local)] as [(any Clampable, any Substrate)] {
            _ = l
            try await c.applyInputs(inputs)
            try await c.setClamp(setting)
        }
        try await learner.learn(seconds: min(0.001, learner.maxLearnSeconds))
        try await localLearner.learn(seconds: min(0.001, localLearner.maxLearnSeconds))
        for side in NetworkSide.allCases {
            let r = try await nodes.readNodes(side)
            let l = try await localNodes.readNodes(side)
            #expect(r.count == l.count && !r.isEmpty)
            #expect(zip(r, l).allSatisfy { abs($0 - $1) <= 1e-12 })
        }
        let gatesRemote = try await remote.readParameters()
        let gatesLocal = try await local.readParameters()
        #expect(zip(gatesRemote, gatesLocal).allSatisfy { abs($0 - $1) <= 1e-12 })

        // The server checks what the client skipped.
        await #expect {
            try await clamp.uncheckedSetClamp(ClampSetting(mode: .clamped, targets: targets, eta: 3))
        } throws: { error in
            guard case .refused(_, let message) = error as? RemoteError else { return false }
            return message.contains("refused by the server") && message.contains("η")
        }
        await #expect(throws: RemoteError.self) {
            try await learner.uncheckedLearn(seconds: learner.maxLearnSeconds * 10 + 1)
        }
        // Holding inputs needs the lease.
        let reader = try await RemoteSubstrate.open(
            RemoteDeviceAddress(server: HostPort(host: "127.0.0.1", port: port), name: "clln"), lease: false,
            environment: [:]
        ).withCapabilities()
        await #expect {
            try await (reader as! any Clampable).applyInputs(inputs)
        } throws: { error in
            guard case .refused(_, let message) = error as? RemoteError else { return false }
            return message.contains("write lease")
        }
        await base.close()
        server.shutdown()
        _ = try? await serving.value
    }

    @Test("a crossbar (no optional capabilities) stays a plain remote substrate")
    func plainStaysPlain() async throws {
        let fixture = try await ServerFixture()
        let base = try await RemoteSubstrate.open(fixture.address(), lease: false, environment: [:])
        #expect(try base.withCapabilities() is RemoteSubstrate)
        #expect(throws: SubstrateError.self) {
            _ = try base.require(.clampable, as: (any Clampable).self, for: "--method coupled")
        }
        await fixture.stop()
    }
}

@Suite("Health check of a served device (pnnlab conformance remote://…)")
struct RemoteHealthTests {
    @Test("every check passes on a served crossbar twin, and the lease check reports a busy device without failing it")
    func healthy() async throws {
        let fixture = try await ServerFixture()
        let (identity, checks) = try await RemoteHealth.run(fixture.address(), environment: [:])
        #expect(identity.family == "crossbar")
        #expect(checks.count >= 7)
        let failed = checks.filter { !$0.passed }
        #expect(failed.isEmpty, "\(failed)")
        #expect(checks.contains { $0.name == "server-side safety" && $0.detail.contains("refused") })
        let holder = try await RemoteSubstrate.open(fixture.address(), holder: "alice", environment: [:])
        let (_, busy) = try await RemoteHealth.run(fixture.address(), environment: [:])
        let lease = busy.first { $0.name == "lease" }
        #expect(lease?.passed == true && lease?.detail.contains("alice") == true)
        await holder.close()
        await fixture.stop()
    }
}
