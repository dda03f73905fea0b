import CLLNDriver
import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// The CLLN emulator and host driver over an in-memory link: every verb, schedules,
/// safety on both sides, the debug state.
@Suite struct CLLNLinkTests {
    @Test func attachReadsTopologyAndDescriptor() async throws {
        let state = EmulatedCLLN.state()
        let e = try await EmulatedCLLN.start(state: state)
        defer { Task { await e.stop() } }
        #expect(e.board.topology == state.topology)
        #expect(e.board.descriptor.identity.family == "clln")
        #expect(e.board.descriptor.parameters.count == state.topology.trainableEdges.count)
        #expect(e.board.descriptor.capabilities.contains([.clampable, .selfLearning, .nodeReadout]))
        #expect(e.board.isEmulator)
        #expect(e.board.info.vPlus == state.physics.vPlus && e.board.info.gateMax == state.physics.gateMax)
    }

    @Test func everyVerbRoundTrips() async throws {
        let state = EmulatedCLLN.state()
        let e = try await EmulatedCLLN.start(state: state)
        defer { Task { await e.stop() } }
        let board = e.board
        let v = e.midSources
        var reference = try CLLNNetwork(state: state)
        // Gates: program, read back.
        let gates = (0..<board.info.trainable).map { 2.0 + 0.05 * Double($0 % 7) }
        _ = try await board.setParameters(gates)
        #expect(try await board.readParameters().elementsEqual(gates) { abs($0 - $1) < 1e-9 })
        reference.setGates(gates)
        // Sources held on the input nodes; the free network matches an independent solve.
        try await board.applyInputs(v)
        reference.setSources(v)
        let free = try await board.readNodes(.free)
        for (k, node) in board.topology.inputNodes.enumerated() { #expect(abs(free[node] - v[k]) < 1e-12) }
        #expect(zip(free, reference.solveFree()).allSatisfy { abs($0 - $1) < 1e-9 })
        // Measure: free outputs for a batch, the held sources are restored afterwards.
        var batch = Matrix(rows: 2, cols: v.count, storage: v + v.map { min($0 + 0.01, 1) })
        batch[0, 0] = v[0]
        let out = try await board.measure(batch)
        #expect(abs(out[0, 0] - reference.freeOutputs()[0]) < 1e-9)
        // Sources restored after the batch: the same node voltages (re-solved, to well below an ADC step).
        #expect(zip(try await board.readNodes(.free), free).allSatisfy { abs($0 - $1) < 1e-9 })
        // Clamp: the clamped network's output is nudged to O_F + η (T − O_F).
        let oF = board.topology.outputValues(free)[0]
        try await board.setClamp(ClampSetting(mode: .clamped, targets: [0.1], eta: 0.5))
        let oC = board.topology.outputValues(try await board.readNodes(.clamped))[0]
        #expect(abs(oC - (oF + 0.5 * (0.1 - oF))) < 1e-9)
        // Learning moves the gates; learning for 0 s does not.
        try await board.learn(seconds: 0)
        #expect(try await board.readParameters() == (try await board.readParameters()))
        let before = try await board.readParameters()
        try await board.learn(seconds: 1e-3)
        #expect(try await board.readParameters() != before)
        try await board.resetGates(to: 3)
        #expect(try await board.readParameters().allSatisfy { abs($0 - 3) < 1e-12 })
        let s = try await board.status()
        #expect(s.learns == 2 && abs(s.learnSeconds - 1e-3) < 1e-15 && s.vectors == 2 && !s.safe && s.violations == 0)
        try await board.enterSafeState()
        #expect(try await board.status().safe)
    }

    @Test func scheduleOverLinkMatchesFirmwareLoop() async throws {
        let state = EmulatedCLLN.state(ideal: false, seed: 3)
        let e = try await EmulatedCLLN.start(state: state)
        defer { Task { await e.stop() } }
        var dataset = e.dataset()
        // Enough points that evaluation records span two stream pages.
        for t in dataset.tasks.indices {
            dataset.tasks[t].points = Array(repeating: dataset.tasks[t].points, count: 140).flatMap { $0 }
        }
        let schedule = ContrastiveSchedule(
            method: .overclamp, eta: 0.25, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 2, hinge: true, traceEvery: 1)
        var viaLink: [ScheduleRecord] = []
        for try await r in try e.board.runSchedule(schedule, dataset: dataset) { viaLink.append(r) }
        let twin = try CLLNTwin(state: state, serial: "reference")
        var direct: [ScheduleRecord] = []
        await twin.runScheduleSync(schedule, dataset: dataset) {
            direct.append($0)
            return true
        }
        #expect(viaLink.count == direct.count && viaLink.count > 5)
        #expect(viaLink == direct)
        #expect(CLLNCoding.encode(viaLink[0]).count > CLLNCommand.pageBytes)
        let s = try await e.board.status()
        #expect(!s.running && Int(s.records) == direct.count)
    }

    @Test func unsafeValuesRefusedOnTheHost() async throws {
        let e = try await EmulatedCLLN.start()
        defer { Task { await e.stop() } }
        var bad = e.midSources
        bad[0] = 1.5
        await #expect(throws: SafetyViolation.self) { try await e.board.applyInputs(bad) }
        await #expect(throws: ContrastiveRequestError.etaOutOfRange(2)) {
            try await e.board.setClamp(ClampSetting(mode: .clamped, targets: [0], eta: 2))
        }
        await #expect(throws: ContrastiveRequestError.self) { try await e.board.learn(seconds: 1e6) }
        await #expect(throws: SafetyViolation.self) {
            try await e.board.setParameters(Array(repeating: 9, count: e.board.info.trainable))
        }
        #expect(throws: ContrastiveRequestError.self) {
            _ = try e.board.runSchedule(
                ContrastiveSchedule(method: .coupled, eta: 0.5, periodSeconds: 1e-4, periods: 0), dataset: e.dataset())
        }
        #expect(try await e.board.status().violations == 0)
    }

    @Test func unsafeValuesRefusedOnTheDevice() async throws {
        let e = try await EmulatedCLLN.start()
        defer { Task { await e.stop() } }
        try await e.board.applyInputs(e.midSources)
        let nodes = try await e.board.readNodes(.free)
        let gates = try await e.board.readParameters()
        var bad = e.midSources
        bad[1] = -0.5
        func refused(_ body: () async throws -> Void) async -> Bool {
            do {
                try await body()
                return false
            } catch LinkError.device(_, let reply) {
                return reply.code == .outOfRange
            } catch {
                return false
            }
        }
        #expect(await refused { try await e.board.uncheckedApplyInputs(bad) })
        #expect(await refused { _ = try await e.board.uncheckedProgram(gates.map { $0 + 10 }) })
        #expect(await refused { try await e.board.uncheckedLearn(seconds: -1) })
        #expect(await refused { try await e.board.uncheckedSetClamp(ClampSetting(mode: .both, targets: [3], eta: 0.5)) })
        #expect(try await e.board.status().violations == 4)
        #expect(await e.emulator.violationCount == 4)
        #expect(try await e.board.readNodes(.free) == nodes)
        #expect(try await e.board.readParameters() == gates)
    }

    @Test func debugStateMatchesTwin() async throws {
        let e = try await EmulatedCLLN.start(state: EmulatedCLLN.state(ideal: false, seed: 11))
        defer { Task { await e.stop() } }
        try await e.board.applyInputs(e.midSources)
        try await e.board.setClamp(ClampSetting(mode: .clamped, targets: [0.05], eta: 1))
        try await e.board.learn(seconds: 2e-3)
        let state = try await e.board.emulatorState()
        #expect(state == (await e.emulator.twin.exportState()))
        #expect(state.biases.contains { $0 != 0 })
    }

    @Test func abortStopsASchedule() async throws {
        let e = try await EmulatedCLLN.start()
        defer { Task { await e.stop() } }
        // Records at the slot ends of periods 39, 79, …, 399: 21 in all; the host stops after 3.
        let schedule = ContrastiveSchedule(
            method: .coupled, eta: 0.5, stepSeconds: 1e-5, periodSeconds: 4e-5, periods: 400, recordEvery: 40)
        var seen = 0
        for try await _ in try e.board.runSchedule(schedule, dataset: e.dataset()) {
            seen += 1
            if seen == 3 { break }
        }
        var status = try await e.board.status()
        for _ in 0..<1_000 where status.running {
            try await Task.sleep(for: .milliseconds(10))
            status = try await e.board.status()
        }
        #expect(!status.running)
        #expect(status.records >= 3 && status.records <= 21)
        #expect(try await e.board.readParameters().count == e.board.info.trainable, "the board takes commands again")
    }

    @Test func runScheduleWithoutDatasetRefused() async throws {
        let e = try await EmulatedCLLN.start()
        defer { Task { await e.stop() } }
        let client = await e.board.client()
        let s = ContrastiveSchedule(method: .coupled, eta: 0.5, periodSeconds: 2e-4, periods: 1)
        await #expect {
            // A generous deadline: the refusal must come as an error reply, not as a timeout on a loaded machine.
            _ = try await client.request(
                CLLNCommand.runSchedule, payload: CLLNCoding.encode(s), retry: .never, timeout: 10)
        } throws: { error in
            guard case LinkError.device(_, let reply) = error else { return false }
            return reply.code == .noDataset
        }
    }

    @Test func conformanceSuitePasses() async throws {
        let (host, device) = MemoryLink.pair(seed: 5)
        let emulator = try CLLNEmulator(state: EmulatedCLLN.state(), serial: "EMU-C")
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host)
        let results = await ConformanceSuite.run(
            client: client, familyChecks: CLLNFamily.conformanceChecks, family: CLLNFamily.family,
            schemaHash: CLLNFamily.schemaHash)
        await client.close()
        for r in results where !r.passed { Issue.record("\(r.name): \(r.detail)") }
        #expect(results.count > 15 && results.allSatisfy(\.passed))
        #expect(await emulator.violationCount == 4)
    }
}
