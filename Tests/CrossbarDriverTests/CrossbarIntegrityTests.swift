import CrossbarDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// No wrong rows, by construction (issue 10, point 1): single frames of long probe streams
/// are dropped, duplicated or delayed at every position, in both directions, and every
/// stream either returns exactly the ideal board's rows or fails with an error.
@Suite("Crossbar: no wrong rows over a faulty link", .serialized)
struct CrossbarIntegrityTests {
    /// An ideal emulated crossbar behind scripted frame faults on the host's end.
    struct Rig {
        let board: CrossbarBoard
        let faults: FrameFaultTransport
        let serving: Task<Void, Never>
        let conductances: [Double]

        static func start(targets: [Double], fastRetransmit: Bool) async throws -> Rig {
            let (host, device) = MemoryLink.pair(seed: 1)
            let faulty = FrameFaultTransport(host)
            let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: .ideal), serial: "EMU-1")
            let server = WireServer(endpoint: emulator, transport: device)
            let serving = Task { await server.run() }
            let connection = try await LinkConnection(
                port: "memory", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 0.2,
                configuration: .init(
                    tracker: .init(
                        window: 8, timeout: 0.05, maxAttempts: 3, backoff: 2, maxTimeout: 0.2, fastRetransmit: fastRetransmit)),
                opener: { faulty })
            let board = try CrossbarBoard(connection: connection)
            let g = try await board.setParameters(targets)
            return Rig(board: board, faults: faulty, serving: serving, conductances: g)
        }

        func stop() async {
            await board.close()
            serving.cancel()
        }
    }

    /// The ideal array in-process: I_j = Σ_r V_r (G+ − G−) with the probe's changes applied.
    static func ideal(_ probe: Probe, conductances: [Double], rows: Int, outputs: Int) -> Matrix {
        var g = conductances
        for c in probe.changes { g[c.index] = c.value }
        var out = Matrix(rows: probe.inputs.rows, cols: outputs)
        for b in 0..<probe.inputs.rows {
            for j in 0..<outputs {
                var sum = 0.0
                for r in 0..<rows { sum += probe.inputs[b, r] * (g[(r * outputs + j) * 2] - g[(r * outputs + j) * 2 + 1]) }
                out[b, j] = sum
            }
        }
        return out
    }

    static func inputs(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        var x = Matrix(rows: rows, cols: cols)
        for i in x.storage.indices { x.storage[i] = (rng.uniform() - 0.5) * 0.3 }
        return x
    }

    /// Runs `probes` under every single-frame fault and returns (correct, failed, wrong) runs.
    /// Without fast retransmission a lost request is re-sent only after its deadline, while
    /// the stream goes on loading other slots: the case the slot rule must cover.
    static func exhaust(_ probes: [Probe], targets: [Double], fastRetransmit: Bool) async throws -> (
        correct: Int, failed: Int, wrong: Int
    ) {
        var rig = try await Rig.start(targets: targets, fastRetransmit: fastRetransmit)
        let d = rig.board.descriptor
        func expected(_ rig: Rig) -> [Matrix] {
            probes.map { ideal($0, conductances: rig.conductances, rows: d.inputs.count, outputs: d.outputs.count) }
        }
        // A clean run: the frame counts, and the board agrees with the ideal twin.
        await rig.faults.arm([])
        var clean: [Matrix] = []
        for try await r in try rig.board.stream(probes) { clean.append(r.outputs) }
        #expect(zip(clean, expected(rig)).allSatisfy { Self.same($0, $1) })
        let (outgoing, incoming) = await rig.faults.counts
        #expect(outgoing > 10 && incoming > 10)
        var correct = 0, failed = 0, wrong = 0
        let kinds: [FrameFault.Kind] = [.drop, .duplicate, .delay(.milliseconds(40))]
        for direction in [FrameFault.Direction.outgoing, .incoming] {
            for frame in 0..<(direction == .outgoing ? outgoing : incoming) {
                for kind in kinds {
                    await rig.faults.arm([FrameFault(direction, frame: frame, kind)])
                    do {
                        var got: [ProbeResult] = []
                        for try await r in try rig.board.stream(probes) { got.append(r) }
                        let want = expected(rig)
                        if got.count == probes.count && zip(got, probes).allSatisfy({ $0.id == $1.id })
                            && zip(got.map(\.outputs), want).allSatisfy({ Self.same($0, $1) })
                        {
                            correct += 1
                        } else {
                            wrong += 1
                            Issue.record("wrong rows with \(FrameFault(direction, frame: frame, kind))")
                        }
                    } catch {
                        failed += 1
                        await rig.stop()
                        rig = try await Rig.start(targets: targets, fastRetransmit: fastRetransmit)
                    }
                }
            }
        }
        await rig.stop()
        return (correct, failed, wrong)
    }

    static func same(_ a: Matrix, _ b: Matrix) -> Bool {
        a.rows == b.rows && a.cols == b.cols
            && zip(a.storage, b.storage).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
    }

    static func targets(_ count: Int) -> [Double] {
        var rng = SeededRandom(seed: 5)
        return (0..<count).map { _ in 1 + 20 * rng.uniform() }
    }

    @Test(
        "a 700-row evaluation stream: every dropped, duplicated or delayed frame gives the right rows or an error",
        arguments: [true, false])
    func evaluationStream(fastRetransmit: Bool) async throws {
        let geometry = CrossbarConfig.ideal
        let devices = geometry.rows * geometry.outputs * 2
        let x = Self.inputs(rows: 700, cols: geometry.rows, seed: 9)
        let probes = [Probe(id: 0, inputs: x), Probe(id: 1, inputs: Self.inputs(rows: 310, cols: geometry.rows, seed: 10))]
        let (correct, failed, wrong) = try await Self.exhaust(
            probes, targets: Self.targets(devices), fastRetransmit: fastRetransmit)
        #expect(wrong == 0)
        #expect(correct > 0 && failed <= correct / 20, "\(correct) correct, \(failed) failed")
    }

    @Test(
        "a Jacobian probe batch (inputs over several slots): no wrong rows under any single-frame fault",
        arguments: [true, false])
    func jacobianBatch(fastRetransmit: Bool) async throws {
        let geometry = CrossbarConfig.ideal
        let devices = geometry.rows * geometry.outputs * 2
        let x = Self.inputs(rows: 230, cols: geometry.rows, seed: 11)
        let probes = (0..<8).map { k in
            Probe(id: k, changes: [ParameterChange(index: (k * 7) % devices, value: 4 + Double(k))], inputs: x)
        }
        let (correct, failed, wrong) = try await Self.exhaust(
            probes, targets: Self.targets(devices), fastRetransmit: fastRetransmit)
        #expect(wrong == 0)
        #expect(correct > 0 && failed <= correct / 20, "\(correct) correct, \(failed) failed")
    }
}
