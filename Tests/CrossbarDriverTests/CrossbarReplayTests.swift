import CrossbarDriver
import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// Record and replay (docs/protocol.md, "Session recordings"): a crossbar session recorded
/// against the in-process emulator is committed as Tests/Recordings/crossbar-emulator-4x2.pnnrec
/// and replayed here through CrossbarBoard: the driver must send exactly the recorded bytes
/// and get the recorded answers. Replay proves content, not timing. Regenerate the fixture
/// with `PNNLAB_WRITE_FIXTURES=1 swift test --filter CrossbarReplayTests`.
@Suite struct CrossbarReplayTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Recordings/crossbar-emulator-4x2.pnnrec").path

    /// What the session saw.
    struct Results: Equatable {
        var programmed: [Double]
        var measured: Matrix
        var probed: [Matrix]
        var status: CrossbarStatus
    }

    static let targets = (0..<16).map { 2 + 1.25 * Double($0) }
    static let inputs = Matrix(rows: 3, cols: 4, storage: [0.1, 0.2, -0.1, 0.05, 0, 0.25, 0.1, -0.2, -0.3, 0, 0.3, 0.15])
    static let probes = [
        Probe(id: 0, changes: [ParameterChange(index: 5, value: 10)], inputs: inputs),
        Probe(id: 1, changes: [ParameterChange(index: 2, value: 4), ParameterChange(index: 15, value: 24)], inputs: inputs),
    ]

    /// The recorded session: program, measure, two probes, status, safe state.
    static func session(_ board: CrossbarBoard) async throws -> Results {
        let programmed = try await board.uncheckedProgram(targets)
        let measured = try await board.uncheckedMeasure(inputs)
        var probed: [Matrix] = []
        for try await r in board.uncheckedStream(probes) { probed.append(r.outputs) }
        let status = try await board.status()
        try await board.enterSafeState()
        return Results(programmed: programmed, measured: measured, probed: probed, status: status)
    }

    /// The session against an ideal 4 × 2 emulator, recorded to `path`. The clock never
    /// moves, so no timeout can put a retransmission into the recording.
    static func record(to path: String) async throws -> Results {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 2
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "REC-1")
        let (host, device) = MemoryLink.pair(seed: 1)
        let serving = Task { await WireServer(endpoint: emulator, transport: device).run() }
        defer { serving.cancel() }
        let connection = try await LinkConnection(
            port: "memory", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 0,
            clock: LinkClock(ManualClock()),
            opener: try LinkRecording.opener({ () async throws(LinkError) -> any Transport in host }, recordingTo: path))
        let board = try CrossbarBoard(connection: connection)
        let results = try await session(board)
        await board.close()
        return results
    }

    /// The session replayed from `path` through the driver.
    static func replay(from path: String) async throws -> Results {
        let replay = try LinkRecording.replay(path: path)
        let connection = try await LinkConnection(
            port: "replay", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 0,
            clock: LinkClock(ManualClock()), opener: replay.opener)
        let board = try CrossbarBoard(connection: connection)
        let results = try await session(board)
        await board.close()
        try replay.verify()
        return results
    }

    @Test func committedRecordingReplaysThroughTheDriver() async throws {
        if ProcessInfo.processInfo.environment["PNNLAB_WRITE_FIXTURES"] == "1" {
            _ = try await Self.record(to: Self.fixture)
        }
        let r = try await Self.replay(from: Self.fixture)
        // The answers are a real (ideal) board's: read-back within the program-and-verify
        // tolerance of the targets, outputs I = V·(G+ − G−) from the read-back, the probe
        // with its changed devices, no refused values.
        #expect(zip(r.programmed, Self.targets).allSatisfy { abs($0 - $1) <= 0.25 }, "\(r.programmed)")
        func expected(_ g: [Double]) -> Matrix {
            var m = Matrix(rows: Self.inputs.rows, cols: 2)
            for b in 0..<Self.inputs.rows {
                for j in 0..<2 {
                    m[b, j] = (0..<4).reduce(0) { $0 + Self.inputs[b, $1] * (g[$1 * 4 + 2 * j] - g[$1 * 4 + 2 * j + 1]) }
                }
            }
            return m
        }
        func close(_ a: Matrix, _ b: Matrix, _ tol: Double) -> Bool {
            zip(a.storage, b.storage).allSatisfy { abs($0 - $1) <= tol }
        }
        #expect(close(r.measured, expected(r.programmed), 1e-9), "\(r.measured) vs \(expected(r.programmed))")
        #expect(r.probed.count == 2)
        for (probe, outputs) in zip(Self.probes, r.probed) {
            var g = r.programmed
            for c in probe.changes { g[c.index] = c.value }
            // The probed devices are programmed to within the tolerance (0.25 µS × |V| ≤ 0.3 V).
            #expect(close(outputs, expected(g), 0.25 * 0.3 * 2), "probe \(probe.id)")
        }
        #expect(r.status.violations == 0)
        #expect(r.status.safe == false, "identify came before safeState")
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8)
        #expect(text.hasPrefix(SessionRecorder.magic + "\n"))
        #expect(text.utf8.count < 20_000, "a small fixture")
    }

    @Test func aFreshRecordingReplaysToTheSameResults() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("xbar-\(UUID().uuidString).pnnrec").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let live = try await Self.record(to: path)
        let replayed = try await Self.replay(from: path)
        #expect(replayed == live)
        let recording = try SessionRecording(path: path)
        #expect(recording.sessions.count == 1)
        let sent = recording.sessions[0].compactMap { e -> Frame? in
            if case .sent(let bytes) = e.kind, bytes != [0] { return try? Frame.decode(wire: bytes) } else { return nil }
        }
        #expect(sent.first?.type == .hello)
        #expect(sent.allSatisfy { !$0.flags.contains(.retransmission) })
    }

    @Test func aChangedDriverFailsTheReplayNamingTheLine() async throws {
        let replay = try LinkRecording.replay(path: Self.fixture)
        let connection = try await LinkConnection(
            port: "replay", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 0,
            clock: LinkClock(ManualClock()), opener: replay.opener)
        let board = try CrossbarBoard(connection: connection)
        // The recording programs Self.targets first; other targets are other bytes.
        await #expect(throws: (any Error).self) { _ = try await board.uncheckedProgram(Self.targets.map { $0 + 1 }) }
        let error = #expect(throws: LinkError.self) { try replay.verify() }
        #expect(error?.description.contains("crossbar-emulator-4x2.pnnrec:") == true, "\(String(describing: error))")
        #expect(error?.description.contains("scripted exchange 2 of ") == true, "\(String(describing: error))")
        await board.close()
    }
}
