import CrossbarDriver
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

/// docs/protocol.md §13.3 Saturation: a column current beyond ±fullScale reads ±fullScale
/// (monotonic), and every measure/probe reply and stream frame counts its saturated outputs.
@Suite struct SaturationTests {
    /// 4 rows × 2 outputs, ideal: full scale vReadMax·gMax·rows/2 = 0.3·25·2 = 15 µA.
    static func idealConfig() -> CrossbarConfig {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 2
        return config
    }

    /// Inputs k/(n−1)·vReadMax on every row, k = 0 … n−1.
    static func ramp(_ n: Int, rows: Int, vMax: Double) -> Matrix {
        var m = Matrix(rows: n, cols: rows)
        for k in 0..<n { for r in 0..<rows { m[k, r] = vMax * Double(k) / Double(n - 1) } }
        return m
    }

    @Test("an ideal board over an emulated link clips above full scale, monotonically, and flags each clipped output")
    func idealBoardOverALink() async throws {
        let config = Self.idealConfig()
        let fs = config.effectiveFullScale
        let e = try await EmulatedBoard.start(config: config)
        defer { Task { await e.stop() } }
        let d = e.board.descriptor
        // Output 0: G+ at gMax on every row, so I+ reaches 2·fullScale; every other device at
        // gMin (column currents ≤ 0.3·4·1 µA, far below full scale): output 1 stays at 0.
        var targets = [Double](repeating: config.gMin, count: d.parameters.count)
        for r in 0..<config.rows { targets[r * 4 + 0] = config.gMax }
        let g = try await e.board.setParameters(targets)
        let n = 21
        let inputs = Self.ramp(n, rows: config.rows, vMax: config.vReadMax)
        #expect(await e.board.saturatedReadings() == 0)
        let out = try await e.board.measure(inputs)
        var expectedFlags = 0
        var previousColumn = -Double.infinity
        for k in 0..<n {
            let v = inputs[k, 0]
            let plus = (0..<config.rows).reduce(0.0) { $0 + v * g[$1 * 4 + 0] }
            let minus = (0..<config.rows).reduce(0.0) { $0 + v * g[$1 * 4 + 1] }
            let clipped = plus > fs || minus > fs
            if clipped { expectedFlags += 1 }
            let expected = min(plus, fs) - min(minus, fs)
            #expect(abs(out[k, 0] - expected) <= 1e-9 * fs, "ramp point \(k): \(out[k, 0]) µA, expected \(expected)")
            #expect(out[k, 0] <= fs + 1e-12, "never beyond full scale")
            // The G+ column's reading (output + the unclipped G− current) never decreases.
            let column = out[k, 0] + minus
            #expect(column >= previousColumn - 1e-12, "monotonic along the ramp")
            previousColumn = column
            #expect(abs(out[k, 1]) < 1e-9, "the balanced output stays at 0")
        }
        // Half the ramp clips (I+ = 2·fullScale at the top): points 11…20.
        #expect(expectedFlags == 10)
        #expect(await e.board.saturatedReadings() == expectedFlags)
        // The same count comes back through probes (averaged repeats count once per output).
        for try await _ in try e.board.stream([Probe(id: 0, inputs: inputs, repeats: 3)]) {}
        #expect(await e.board.saturatedReadings() == 2 * expectedFlags)
        // And in every measurement stream frame.
        let client = await e.board.client()
        let slotInputs = inputs.rows(at: [n - 1, 0])
        var w = PayloadWriter()
        w.u8(0)
        w.u16(2)
        w.u16(0)
        w.u16(2)
        w.f64s(slotInputs.storage)
        _ = try await client.request(CrossbarCommand.loadInputs, payload: w.bytes, retry: .idempotent)
        let frames = await client.subscribe(stream: CrossbarCommand.measurementStream)
        var s = PayloadWriter()
        s.u8(0)
        s.u16(1)
        s.u32(3)
        let ticket = try await client.submit(CrossbarCommand.streamMeasure, payload: s.bytes, retry: .never, timeout: 5)
        var seen = 0
        for await frame in frames {
            var r = PayloadReader(frame.data)
            _ = try r.u32("index")
            let readings = try CrossbarReadings.decode(&r, count: 2 * config.outputs)
            try r.expectEnd()
            #expect(readings.saturated == 1, "the top of the ramp clips output 0 only")
            #expect(readings.currents[0] == fs - minusCurrent(g, v: config.vReadMax, rows: config.rows))
            seen += 1
            if seen == 3 { break }
        }
        _ = try await client.reply(to: ticket)
        await client.unsubscribe(stream: CrossbarCommand.measurementStream)
        #expect(seen == 3)
        #expect(await e.emulator.violationCount == 0)
    }

    private func minusCurrent(_ g: [Double], v: Double, rows: Int) -> Double {
        (0..<rows).reduce(0.0) { $0 + v * g[$1 * 4 + 1] }
    }

    @Test("the in-process twin clips and counts like the board")
    func twinCounts() async throws {
        let config = Self.idealConfig()
        let twin = try CrossbarTwin(config: config)
        var targets = [Double](repeating: config.gMin, count: config.deviceCount)
        for r in 0..<config.rows { targets[r * 4] = config.gMax }
        _ = try await twin.setParameters(targets)
        let out = try await twin.measure(Self.ramp(21, rows: config.rows, vMax: config.vReadMax))
        #expect(out.storage.allSatisfy { $0 <= config.effectiveFullScale })
        #expect(await twin.saturatedReadings() == 10)
    }

    /// The check alone, against an emulator built from `config`.
    static func runCheck(_ config: CrossbarConfig) async throws -> ConformanceResult {
        let (host, device) = MemoryLink.pair(seed: 9)
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "SAT")
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host)
        let checks = CrossbarFamily.conformanceChecks.filter { $0.name == "saturation is flagged and clipped monotonically" }
        #expect(checks.count == 1)
        let before = await emulator.trueConductances()
        let results = await ConformanceSuite.run(
            client: client, familyChecks: checks, family: "crossbar", schemaHash: CrossbarCommand.schemaHash)
        if config.exactProgramming {
            #expect(await emulator.trueConductances() == before, "the check's probe restores the devices")
        }
        #expect(await emulator.violationCount == 0)
        await client.close()
        return try #require(results.first { $0.name == checks[0].name })
    }

    @Test("the conformance check passes on the ideal and the default emulator, and sees clipping on both")
    func conformanceCheckPasses() async throws {
        for config in [Self.idealConfig(), CrossbarConfig()] {
            let r = try await Self.runCheck(config)
            #expect(r.passed, "\(r.detail)")
            #expect(r.detail.contains("flagged and clipped"), "\(r.detail)")
        }
    }

    /// A board that clips but never sets the count: the check must fail.
    actor SilentBoard: DeviceEndpoint {
        let inner: CrossbarEmulator
        nonisolated let hello: HelloReply
        init(_ inner: CrossbarEmulator) {
            self.inner = inner
            self.hello = inner.hello
        }
        nonisolated var preemptingCommands: Set<FrameType> { inner.preemptingCommands }
        func sessionReset() async { await inner.sessionReset() }
        func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
            var reply = try await inner.handle(type, payload: payload, push: push)
            if type == CrossbarCommand.measure || type == CrossbarCommand.probe {
                reply[reply.count - 2] = 0
                reply[reply.count - 1] = 0
            }
            return reply
        }
    }

    @Test("a board that clips without flagging fails the conformance check")
    func unflaggedClippingFails() async throws {
        let (host, device) = MemoryLink.pair(seed: 10)
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: Self.idealConfig()), serial: "SAT")
        let server = WireServer(endpoint: SilentBoard(emulator), transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host)
        let name = "saturation is flagged and clipped monotonically"
        let results = await ConformanceSuite.run(
            client: client, familyChecks: CrossbarFamily.conformanceChecks.filter { $0.name == name }, family: "crossbar",
            schemaHash: CrossbarCommand.schemaHash)
        let r = try #require(results.first { $0.name == name })
        #expect(!r.passed)
        #expect(r.detail.contains("flagged saturated"), "\(r.detail)")
        await client.close()
    }
}
