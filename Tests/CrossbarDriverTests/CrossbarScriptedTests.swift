import CrossbarDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// The crossbar driver against a scripted board: every request it sends is checked byte for
/// byte against docs/protocol.md §13.3, written out here independently of the driver's own
/// encoding (little-endian fields in the documented order), and the scripted replies are
/// decoded into the values the Substrate API returns.
@Suite struct CrossbarScriptedTests {
    /// A 4-row × 2-output board (4 physical columns, 16 parameters).
    static func hello() throws -> HelloReply {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 2
        return CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "SCRIPT-1").hello
    }

    static func connect(_ script: ScriptedTransport) async throws -> CrossbarBoard {
        try CrossbarBoard(
            connection: try await .scripted(script, family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash))
    }

    @Test func driverSendsTheDocumentedRequests() async throws {
        let hello = try Self.hello()
        let g = try CrossbarGeometry.decode(hello.descriptor)
        #expect(g.rows == 4 && g.outputs == 2 && g.columns == 4)
        let vRead = min(0.2, g.vReadMax)
        let conductances = (0..<16).map { 20 + Double($0) }
        let targets = (0..<16).map { 30 + 0.5 * Double($0) }
        let inputs = Matrix(rows: 2, cols: 4, storage: [0.1, 0.2, -0.1, 0.05, 0, 0.1, 0.1, -0.2])
        let status = CrossbarStatus(violations: 0, pulses: 7, verifies: 2, vectors: 9, queued: 0, safe: false)

        let script = ScriptedTransport(
            [
                Script.hello(hello),
                Script.exchange("identify", CrossbarCommand.identify, seq: 1, reply: status.encode()),
                // read-back: ⌊511/4⌋ ≥ 4 rows per request, so one read of the whole array at 0.2 V.
                Script.exchange(
                    "read all", CrossbarCommand.read, seq: 2, payload: Bytes().u16(0).u16(4).u16(0).u16(4).f64(vRead).bytes,
                    reply: Bytes().f64s(conductances).bytes),
                // program = queueTargets (first u32, n u16, targets), then execute, then a read-back.
                Script.exchange(
                    "queueTargets", CrossbarCommand.queueTargets, seq: 3, payload: Bytes().u32(0).u16(16).f64s(targets).bytes,
                    reply: Bytes().u32(16).bytes),
                Script.exchange(
                    "execute", CrossbarCommand.execute, seq: 4, reply: Bytes().u32(16).u32(40).u32(0).bytes),
                Script.exchange(
                    "read back", CrossbarCommand.read, seq: 5, payload: Bytes().u16(0).u16(4).u16(0).u16(4).f64(vRead).bytes,
                    reply: Bytes().f64s(targets).bytes),
                // measure = loadInputs into slot 0 (slot, total, first, n, vectors), then measure.
                Script.exchange(
                    "loadInputs", CrossbarCommand.loadInputs, seq: 6,
                    payload: Bytes().u8(0).u16(2).u16(0).u16(2).f64s(inputs.storage).bytes, reply: Bytes().u16(2).bytes),
                Script.exchange(
                    "measure", CrossbarCommand.measure, seq: 7, payload: Bytes().u8(0).u16(1).bytes,
                    reply: Bytes().f64s([1, 2, 3, 4]).u16(0).bytes),
                // The probe reuses slot 0, which still holds the same batch.
                Script.exchange(
                    "probe", CrossbarCommand.probe, seq: 8, payload: Bytes().u8(0).u16(3).u16(1).u32(5).f64(10).bytes,
                    reply: Bytes().f64s([5, 6, 7, 8]).u16(1).bytes),
                Script.exchange("safeState", CrossbarCommand.safeState, seq: 9, reply: []),
            ], describe: Script.describe)
        let board = try await Self.connect(script)

        #expect(try await board.status() == status)
        #expect(try await board.readParameters() == conductances)
        #expect(try await board.uncheckedProgram(targets) == targets)
        #expect(try await board.uncheckedMeasure(inputs) == Matrix(rows: 2, cols: 2, storage: [1, 2, 3, 4]))
        var results: [ProbeResult] = []
        for try await r in board.uncheckedStream([
            Probe(id: 42, changes: [ParameterChange(index: 5, value: 10)], inputs: inputs, repeats: 3)
        ]) {
            results.append(r)
        }
        #expect(results.map(\.id) == [42])
        #expect(results.first?.outputs == Matrix(rows: 2, cols: 2, storage: [5, 6, 7, 8]))
        #expect(results.first?.measurementCount == 6)
        #expect(await board.saturatedReadings() == 1, "the probe reply flagged one saturated output")
        try await board.enterSafeState()
        try script.verify()
        await board.close()
    }

    @Test func aWrongRequestFailsTheOperationAndNamesTheStep() async throws {
        let hello = try Self.hello()
        // The script expects a read at 0.15 V; the driver reads at 0.2 V.
        let script = ScriptedTransport(
            [
                Script.hello(hello),
                Script.exchange(
                    "read all", CrossbarCommand.read, seq: 1, payload: Bytes().u16(0).u16(4).u16(0).u16(4).f64(0.15).bytes,
                    reply: Bytes().f64s(Array(repeating: 1, count: 16)).bytes),
            ], describe: Script.describe)
        let board = try await Self.connect(script)
        let error = await #expect(throws: LinkError.self) { _ = try await board.readParameters() }
        #expect(error?.description.contains("scripted exchange 2 of 2 (read all)") == true, "\(String(describing: error))")
        let mismatch = #expect(throws: ScriptError.self) { try script.verify() }
        guard case .mismatch(let step, _, _, let expected, let got, let detail)? = mismatch else {
            Issue.record("expected a mismatch, got \(String(describing: mismatch))")
            return
        }
        #expect(step == 2)
        #expect(expected != got)
        #expect(detail.contains("payload 00 00 04 00 00 00 04 00 33 33 33 33 33 33 C3 3F"), "expected 0.15 V")
        #expect(detail.contains("payload 00 00 04 00 00 00 04 00 9A 99 99 99 99 99 C9 3F"), "got 0.2 V")
        await board.close()
    }

    @Test func anUnusedExchangeFailsVerification() async throws {
        let script = ScriptedTransport(
            [
                Script.hello(try Self.hello()),
                Script.exchange("safeState", CrossbarCommand.safeState, seq: 1, reply: []),
            ], describe: Script.describe)
        let board = try await Self.connect(script)
        #expect(throws: ScriptError.unused(step: 2, of: 2, note: "safeState")) { try script.verify() }
        try await board.enterSafeState()
        try script.verify()
        await board.close()
    }
}

/// Little-endian payload bytes written out by hand, independent of the driver's encoder.
struct Bytes {
    var bytes: [UInt8] = []
    func u8(_ v: UInt8) -> Bytes { adding([v]) }
    func u16(_ v: UInt16) -> Bytes { adding((0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }) }
    func u32(_ v: UInt32) -> Bytes { adding((0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }) }
    func f64(_ v: Double) -> Bytes { adding((0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) }) }
    func f64s(_ vs: [Double]) -> Bytes { vs.reduce(self) { $0.f64($1) } }
    private func adding(_ more: [UInt8]) -> Bytes { Bytes(bytes: bytes + more) }
}
