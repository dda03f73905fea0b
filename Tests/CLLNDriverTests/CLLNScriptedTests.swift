import CLLNDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// The CLLN driver against a scripted board (the 2+1-edge network: 2 trainable edges,
/// 3 sources, 1 single-ended output, 4 nodes): every request is checked byte for byte
/// against docs/protocol.md §14.3, written out here independently of the driver's encoding,
/// and the scripted replies come back through the Substrate, Clampable, NodeReadout and
/// SelfLearning API.
@Suite struct CLLNScriptedTests {
    /// The board's hello and its topology page (offset 0), as a CLLN emulator sends them.
    static func board() async throws -> (hello: HelloReply, topologyPage: [UInt8]) {
        let emulator = try CLLNEmulator(
            state: CLLNState(topology: .twoPlusOne, physics: .ideal, seed: 1), serial: "SCRIPT-C")
        let page = try await emulator.handle(
            CLLNCommand.topology, payload: Bytes().u32(0).bytes, push: StreamPusher(send: { _, _ in }))
        return (emulator.hello, page)
    }

    static func connect(_ script: ScriptedTransport) async throws -> CLLNBoard {
        try await CLLNBoard(
            connection: try await .scripted(script, family: CLLNFamily.family, schemaHash: CLLNCommand.schemaHash))
    }

    @Test func driverSendsTheDocumentedRequests() async throws {
        let (hello, page) = try await Self.board()
        let sources = [0.3, 0.45, 0.0]
        let inputs = Matrix(rows: 2, cols: 3, storage: [0.3, 0.45, 0, 0.35, 0.45, 0])
        let status = CLLNStatus(
            violations: 0, learns: 1, learnSeconds: 1e-3, vectors: 2, datasetPoints: 0, running: false, records: 0,
            safe: false)

        let script = ScriptedTransport(
            [
                Script.hello(hello),
                Script.exchange("topology", CLLNCommand.topology, seq: 1, payload: Bytes().u32(0).bytes, reply: page),
                Script.exchange(
                    "readGates", CLLNCommand.readGates, seq: 2, payload: Bytes().u16(0).u16(2).bytes,
                    reply: Bytes().f64s([3, 2.5]).bytes),
                // program = writeGates (first, n, gates), then a read-back.
                Script.exchange(
                    "writeGates", CLLNCommand.writeGates, seq: 3, payload: Bytes().u16(0).u16(2).f64s([1.5, 2.25]).bytes,
                    reply: []),
                Script.exchange(
                    "readGates back", CLLNCommand.readGates, seq: 4, payload: Bytes().u16(0).u16(2).bytes,
                    reply: Bytes().f64s([1.5, 2.25]).bytes),
                Script.exchange(
                    "setSources", CLLNCommand.setSources, seq: 5, payload: Bytes().f64s(sources).bytes, reply: []),
                Script.exchange(
                    "setClamp", CLLNCommand.setClamp, seq: 6, payload: Bytes().u8(1).f64(0.5).f64(0.3).bytes, reply: []),
                Script.exchange("learn", CLLNCommand.learn, seq: 7, payload: Bytes().f64(1e-3).bytes, reply: []),
                Script.exchange(
                    "readNodes", CLLNCommand.readNodes, seq: 8, payload: Bytes().u8(1).u16(0).u16(4).bytes,
                    reply: Bytes().f64s([0.31, 0.3, 0.45, 0]).bytes),
                Script.exchange(
                    "measure", CLLNCommand.measure, seq: 9, payload: Bytes().u16(2).f64s(inputs.storage).bytes,
                    reply: Bytes().f64s([0.25, 0.26]).bytes),
                Script.exchange("identify", CLLNCommand.identify, seq: 10, reply: status.encode()),
                Script.exchange("safeState", CLLNCommand.safeState, seq: 11, reply: []),
            ], describe: Script.describe)
        let board = try await Self.connect(script)
        #expect(board.info.trainable == 2 && board.info.inputs == 3 && board.info.outputs == 1)

        #expect(try await board.readParameters() == [3, 2.5])
        #expect(try await board.uncheckedProgram([1.5, 2.25]) == [1.5, 2.25])
        try await board.uncheckedApplyInputs(sources)
        try await board.uncheckedSetClamp(ClampSetting(mode: .clamped, targets: [0.3], eta: 0.5))
        try await board.uncheckedLearn(seconds: 1e-3)
        #expect(try await board.readNodes(.clamped) == [0.31, 0.3, 0.45, 0])
        #expect(try await board.uncheckedMeasure(inputs) == Matrix(rows: 2, cols: 1, storage: [0.25, 0.26]))
        #expect(try await board.status() == status)
        try await board.enterSafeState()
        try script.verify()
        await board.close()
    }

    @Test func aDeviceErrorReplyReachesTheCaller() async throws {
        let (hello, page) = try await Self.board()
        let refusal = ErrorReply(code: .outOfRange, message: "refused: learning time -1.0 s")
        let script = ScriptedTransport(
            [
                Script.hello(hello),
                Script.exchange("topology", CLLNCommand.topology, seq: 1, payload: Bytes().u32(0).bytes, reply: page),
                Script.exchange("learn", CLLNCommand.learn, seq: 2, payload: Bytes().f64(-1).bytes, error: refusal),
            ], describe: Script.describe)
        let board = try await Self.connect(script)
        await #expect(throws: LinkError.device(request: "\(CLLNCommand.learn)", refusal)) {
            try await board.uncheckedLearn(seconds: -1)
        }
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
