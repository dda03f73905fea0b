import CLLNDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// No wrong numbers from a CLLN board (issue 10, point 1, for the second family): single
/// frames of long exchanges — programming every gate, measuring a batch, reading every node,
/// and a learning schedule whose records stream back — are dropped, duplicated or delayed
/// at every position, in both directions. Every exchange either returns exactly what the
/// clean link returned or fails with an error.
@Suite("CLLN: no wrong numbers over a faulty link", .serialized)
struct CLLNIntegrityTests {
    /// An ideal emulated CLLN board behind scripted frame faults on the host's end.
    struct Rig {
        let board: CLLNBoard
        let faults: FrameFaultTransport
        let serving: Task<Void, Never>

        static func start() async throws -> Rig {
            let (host, device) = MemoryLink.pair(seed: 1)
            let faulty = FrameFaultTransport(host)
            let emulator = try CLLNEmulator(state: EmulatedCLLN.state(), serial: "EMU-1")
            let server = WireServer(endpoint: emulator, transport: device)
            let serving = Task { await server.run() }
            let connection = try await LinkConnection(
                port: "memory", family: CLLNFamily.family, schemaHash: CLLNCommand.schemaHash, grace: 1,
                configuration: .init(tracker: .init(window: 8, timeout: 0.2, maxAttempts: 3, backoff: 2, maxTimeout: 1)),
                opener: { faulty })
            return Rig(board: try await CLLNBoard(connection: connection), faults: faulty, serving: serving)
        }

        func stop() async {
            await board.close()
            serving.cancel()
        }
    }

    /// Runs `exchange` on a fresh board clean, then under every single-frame fault; returns
    /// (correct, failed, wrong) trials and the faults that made a trial fail. A fresh board
    /// per trial: the exchange may change it.
    static func exhaust<T: Equatable & Sendable>(
        minimumFrames: Int = 10, _ exchange: @Sendable (CLLNBoard) async throws -> T
    ) async throws -> (correct: Int, failed: Int, wrong: Int, failures: [FrameFault]) {
        let reference = try await Rig.start()
        await reference.faults.arm([])
        let clean = try await exchange(reference.board)
        let (outgoing, incoming) = await reference.faults.counts
        await reference.stop()
        #expect(outgoing >= minimumFrames && incoming >= minimumFrames, "\(outgoing) frames out, \(incoming) in")
        var correct = 0, failed = 0, wrong = 0
        var failures: [FrameFault] = []
        let kinds: [FrameFault.Kind] = [.drop, .duplicate, .delay(.milliseconds(40))]
        for direction in [FrameFault.Direction.outgoing, .incoming] {
            for frame in 0..<(direction == .outgoing ? outgoing : incoming) {
                for kind in kinds {
                    let rig = try await Rig.start()
                    await rig.faults.arm([FrameFault(direction, frame: frame, kind)])
                    do {
                        if try await exchange(rig.board) == clean {
                            correct += 1
                        } else {
                            wrong += 1
                            Issue.record("different numbers with \(FrameFault(direction, frame: frame, kind))")
                        }
                    } catch {
                        failed += 1
                        failures.append(FrameFault(direction, frame: frame, kind))
                    }
                    await rig.stop()
                }
            }
        }
        return (correct, failed, wrong, failures)
    }

    struct Readings: Equatable, Sendable {
        var gates: [Double]
        var outputs: [Double]
        var nodes: [Double]
    }

    @Test("8 rounds of programming every gate, measuring 24 inputs, reading every node: the clean numbers or an error")
    func programMeasureRead() async throws {
        let (correct, failed, wrong, _) = try await Self.exhaust { board in
            let info = board.info
            var rng = SeededRandom(seed: 3)
            var readings: [Readings] = []
            for _ in 0..<8 {
                let gates = (0..<info.trainable).map { _ in info.gateMax * (0.1 + 0.8 * rng.uniform()) }
                let read = try await board.uncheckedProgram(gates)
                let mid = CLLNFamily.midSources(info, board.topology)
                var x = Matrix(rows: 24, cols: mid.count)
                for r in 0..<24 {
                    for c in 0..<mid.count {
                        x[r, c] = min(max(mid[c] + 0.04 * (rng.uniform() - 0.5), info.inputLow), info.inputHigh)
                    }
                }
                let y = try await board.uncheckedMeasure(x)
                try await board.uncheckedApplyInputs(mid)
                let nodes = try await board.readNodes(.free)
                readings.append(Readings(gates: read, outputs: y.storage, nodes: nodes))
            }
            return readings
        }
        #expect(wrong == 0)
        #expect(correct > 0 && failed <= correct / 10, "\(correct) correct, \(failed) failed")
    }

    @Test("a learning schedule streaming its records: the clean records or an error, never a gap or a hang")
    func scheduleRecords() async throws {
        let (correct, _, wrong, failures) = try await Self.exhaust(minimumFrames: 4) { board in
            let schedule = ContrastiveSchedule(
                method: .coupled, eta: 0.5, stepSeconds: 1e-5, periodSeconds: 4e-5, periods: 24, recordEvery: 4)
            // A dataset of several chunks, so the upload is a long exchange too.
            var dataset = EmulatedCLLN.dataset(for: board)
            for t in dataset.tasks.indices {
                dataset.tasks[t].points = Array(repeating: dataset.tasks[t].points, count: 60).flatMap { $0 }
            }
            var records: [ScheduleRecord] = []
            for try await r in try board.runSchedule(schedule, dataset: dataset) {
                records.append(r)
            }
            return records
        }
        #expect(wrong == 0)
        #expect(correct > 0)
        // Records are numbered and never re-sent: a lost record or end frame is an error (a
        // watchdog notices a lost end frame once the board reports the schedule done). Every
        // other fault — lost requests or replies, duplicates, delays — is recovered.
        for f in failures {
            #expect(f.direction == .incoming && f.kind == .drop, "failed under \(f)")
        }
    }
}
