import CrossbarDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

@Suite("Crossbar board over a link")
struct CrossbarLinkTests {
    @Test("the hello describes the twin's geometry and ranges")
    func descriptorFromHello() async throws {
        var config = CrossbarConfig.ideal
        config.rows = 7
        config.outputs = 4
        let e = try await EmulatedBoard.start(config: config)
        defer { Task { await e.stop() } }
        let d = e.board.descriptor
        #expect(d.inputs.count == 7)
        #expect(d.outputs.count == 4)
        #expect(d.parameters.count == 7 * 8)
        #expect(d.parameters.lower[0] == config.gMin)
        #expect(d.parameters.upper[0] == config.gMax)
        #expect(d.inputs.upper == config.vReadMax)
        #expect(e.board.isEmulator)
    }

    @Test("programming and measuring over the link obeys I = V·(G+ − G−) exactly on an ideal array")
    func ohmAndKirchhoffOverTheLink() async throws {
        let e = try await EmulatedBoard.start()
        defer { Task { await e.stop() } }
        let d = e.board.descriptor
        var rng = SeededRandom(seed: 3)
        let targets = (0..<d.parameters.count).map { _ in 1 + 20 * rng.uniform() }
        let readBack = try await e.board.setParameters(targets)
        var inputs = Matrix(rows: 9, cols: d.inputs.count)
        for i in inputs.storage.indices { inputs.storage[i] = (rng.uniform() - 0.5) * 0.4 }
        let out = try await e.board.measure(inputs)
        let outputs = d.outputs.count
        for b in 0..<inputs.rows {
            for j in 0..<outputs {
                var expected = 0.0
                for r in 0..<d.inputs.count {
                    expected += inputs[b, r] * (readBack[(r * outputs + j) * 2] - readBack[(r * outputs + j) * 2 + 1])
                }
                #expect(abs(out[b, j] - expected) <= 1e-9 * max(1, abs(expected)))
            }
        }
    }

    @Test("pipelined probes come back in order with the right shapes, batches above maxBatch split")
    func probesPipelined() async throws {
        var config = CrossbarConfig.ideal
        config.rows = 30
        config.outputs = 10
        let e = try await EmulatedBoard.start(config: config)
        defer { Task { await e.stop() } }
        let d = e.board.descriptor
        let base = try await e.board.readParameters()
        let batch = d.maxBatch + 5
        let inputs = Matrix(rows: batch, cols: d.inputs.count, storage: [Double](repeating: 0.1, count: batch * d.inputs.count))
        var probes: [Probe] = []
        for p in 0..<40 {
            let index = p * 3
            probes.append(
                Probe(
                    id: p, changes: [ParameterChange(index: index, value: min(base[index] + 1, d.parameters.upper[index]))],
                    inputs: inputs))
        }
        var ids: [Int] = []
        for try await result in try e.board.stream(probes) {
            ids.append(result.id)
            #expect(result.outputs.rows == batch && result.outputs.cols == d.outputs.count)
        }
        #expect(ids == Array(0..<40))
        #expect(await e.emulator.violationCount == 0)
    }

    @Test("out-of-range requests are refused on the host: the board counts no violation")
    func hostSideSafety() async throws {
        let e = try await EmulatedBoard.start()
        defer { Task { await e.stop() } }
        let d = e.board.descriptor
        var rng = SeededRandom(seed: 9)
        var refused = 0
        for k in 0..<2_000 {
            do {
                if k % 2 == 0 {
                    var theta = [Double](
                        repeating: (d.parameters.lower[0] + d.parameters.upper[0]) / 2, count: d.parameters.count)
                    theta[Int(rng.next() % UInt64(theta.count))] = d.parameters.upper[0] * (1 + rng.uniform()) + 1e-6
                    _ = try await e.board.setParameters(theta)
                } else {
                    var x = Matrix(rows: 2, cols: d.inputs.count)
                    x[1, Int(rng.next() % UInt64(d.inputs.count))] = d.inputs.upper * (1.0001 + rng.uniform())
                    _ = try await e.board.measure(x)
                }
            } catch is SafetyViolation {
                refused += 1
            }
        }
        #expect(refused == 2_000)
        #expect(await e.emulator.violationCount == 0)
        let status = try await e.board.status()
        #expect(status.violations == 0 && status.pulses == 0)
    }

    @Test("the emulator passes every conformance check")
    func conformance() async throws {
        let (host, device) = MemoryLink.pair(seed: 5)
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: CrossbarConfig()), serial: "C1")
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host)
        let results = await ConformanceSuite.run(
            client: client, familyChecks: CrossbarFamily.conformanceChecks, family: "crossbar",
            schemaHash: CrossbarCommand.schemaHash)
        for r in results where !r.passed { Issue.record("\(r.name): \(r.detail)") }
        #expect(results.count >= 20)
        #expect(results.allSatisfy { $0.passed })
        #expect(await emulator.violationCount == 0)
        await client.close()
    }

    @Test("a corrupting, lossy link still delivers correct answers (retries and de-duplication)")
    func faultyLink() async throws {
        let faults = FaultSpec(drop: 1e-3, flip: 1e-3)
        let e = try await EmulatedBoard.start(faults: faults, seed: 11, tracker: .init(timeout: 0.05, maxAttempts: 6))
        defer { Task { await e.stop() } }
        let d = e.board.descriptor
        let targets = [Double](repeating: 10, count: d.parameters.count)
        let readBack = try await e.board.setParameters(targets)
        var x = Matrix(rows: 4, cols: d.inputs.count)
        for i in x.storage.indices { x.storage[i] = 0.05 }
        for _ in 0..<60 {
            let out = try await e.board.measure(x)
            for j in 0..<d.outputs.count {
                var expected = 0.0
                for r in 0..<d.inputs.count {
                    expected += 0.05 * (readBack[(r * d.outputs.count + j) * 2] - readBack[(r * d.outputs.count + j) * 2 + 1])
                }
                #expect(abs(out[0, j] - expected) <= 1e-9 * max(1, abs(expected)))
            }
        }
        let stats = await (await e.board.client()).statistics
        #expect(stats.decoder.crcErrors + stats.decoder.cobsErrors + stats.decoder.malformed > 0)
        #expect(stats.requests.retransmissions > 0)
    }

    @Test("a request with a trailing byte is refused before anything is executed")
    func malformedRequestChangesNothing() async throws {
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: .ideal), serial: "M1")
        var w = PayloadWriter()
        w.u16(0)
        w.u16(0)
        w.f64(1.5)
        w.f64(100)
        w.u8(0xAA)  // one byte too many
        let pusher = StreamPusher { _, _ in }
        let before = await emulator.physicsStatistics.pulses
        await #expect(throws: ErrorReply.self) {
            _ = try await emulator.handle(CrossbarCommand.pulse, payload: w.bytes, push: pusher)
        }
        let afterBad = await emulator.physicsStatistics.pulses
        #expect(afterBad == before, "pulses \(before) → \(afterBad)")
        w = PayloadWriter()
        w.u16(0)
        w.u16(0)
        w.f64(1.5)
        w.f64(100)
        _ = try await emulator.handle(CrossbarCommand.pulse, payload: w.bytes, push: pusher)
        #expect(await emulator.physicsStatistics.pulses == before + 1, "the well-formed pulse is executed")
    }
}
