import CrossbarDriver
import Foundation
import PNNCalibration
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import Testing

/// The crossbar calibration against hidden truth: on the twin (through the family's
/// `hiddenTruth`) and on an emulated board over an in-memory link, with seeds the procedure
/// has never seen; its refusals and its warnings about the board's history.
@Suite struct CrossbarCalibrationTests {
    /// A 16 × 4 array with every non-ideality on, ADC gain and offset errors, a few per cent
    /// of stuck devices and one dead column.
    static func config(seed: UInt64, rows: Int = 16, outputs: Int = 4) -> CrossbarConfig {
        var c = CrossbarConfig(rows: rows, outputs: outputs, seed: seed)
        c.adcGainSpread = 0.03
        c.adcOffsetSpread = 0.003
        c.stuckFraction = 0.04
        c.deadColumns = [2]
        return c
    }

    static func figure(_ figures: [CalibrationFigure], _ key: String) throws -> Double {
        try #require(figures.first { $0.key == key }?.value, "no figure \(key)")
    }

    /// The acceptance of issue 14 on one calibration.
    static func expectAccepted(_ r: CrossbarCalibrationResult, _ c: CrossbarCalibrationComparison, seed: UInt64) {
        #expect(c.windowErrorMax < 0.03, "seed \(seed): window error \(c.windowErrorMax)")
        #expect(c.readNoiseRelativeError < 0.10, "seed \(seed): read noise error \(c.readNoiseRelativeError)")
        #expect(c.stuckTrue > 0, "seed \(seed): the array should have stuck devices")
        #expect(c.stuckMissed == 0 && c.stuckFalse == 0, "seed \(seed): stuck missed \(c.stuckMissed), false \(c.stuckFalse)")
        #expect(c.deadColumnsMissed == 0 && c.deadColumnsFalse == 0, "seed \(seed): dead columns \(r.deadColumns)")
        #expect(c.adcGainErrorMax < 0.01, "seed \(seed): ADC gain error \(c.adcGainErrorMax)")
        #expect(c.adcOffsetErrorMaxFullScale < 0.01, "seed \(seed): ADC offset error \(c.adcOffsetErrorMaxUa) µA")
        // Much tighter than 1 % of full scale: within half an ADC step.
        #expect(c.adcOffsetErrorMaxUa < 0.5 * r.geometry.adcStep, "seed \(seed): offset \(c.adcOffsetErrorMaxUa) µA")
        #expect(r.twinFidelity <= 1.5 && r.twinFidelity >= 0.8, "seed \(seed): twin fidelity \(r.twinFidelity)")
        // The fidelity sees the column ADCs: ignoring their 3 % gain spread shows (1.5–2.8 here).
        #expect(r.twinFidelityIdealAdcs > 1.3 * r.twinFidelity, "seed \(seed): \(r.twinFidelityIdealAdcs)")
        #expect(c.writeNoiseRelativeError < 0.15, "seed \(seed): write noise error \(c.writeNoiseRelativeError)")
        #expect(r.pulsesTotal <= r.pulseBound && r.pulsesTotal == r.pulsesSweeps + r.pulsesRestore)
        #expect(r.pulsesBoardCounted == r.pulsesTotal, "the board's own counter agrees")
        #expect(r.warnings.isEmpty, "seed \(seed): \(r.warnings)")
    }

    @Test(arguments: [61, 62] as [UInt64]) func recoversTheHiddenConstantsOfATwin(seed: UInt64) async throws {
        let twin = try CrossbarTwin(config: Self.config(seed: seed))
        let procedure = CrossbarCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        #expect(profile.family == "crossbar" && profile.serial == "sim-\(seed)")
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        let truth = try #require(try await CrossbarFamily.hiddenTruth(of: twin))
        let c = CrossbarCalibrationComparison(result: r, truth: try CrossbarPhysics(importing: truth))
        Self.expectAccepted(r, c, seed: seed)
        // The family's generic comparison reports the same figures.
        let figures = try procedure.compare(profile, truth: truth)
        #expect(try Self.figure(figures, "window_error_max") == c.windowErrorMax)
        #expect(try Self.figure(figures, "stuck_missed") == 0)
        #expect(try Self.figure(try procedure.headline(profile), "twin_fidelity") == r.twinFidelity)
        // Calibration is safe: nothing out of range reached the twin, and the devices were
        // brought back to where they started.
        let stats = await twin.statistics()
        #expect(stats.violations == 0)
        #expect(stats.pulses == r.pulsesTotal)
        #expect(r.restoredDevices >= r.gMinUs.count - r.stuckDevices.count - 2, "restored \(r.restoredDevices)")
    }

    /// The acceptance table of Drivers/Crossbar/README.md ("Calibration"): five seeds the
    /// procedure was not developed on, one Markdown row each on stdout.
    @Test(arguments: [71, 72, 73, 74, 75] as [UInt64]) func acceptance(seed: UInt64) async throws {
        let twin = try CrossbarTwin(config: Self.config(seed: seed))
        let clock = ContinuousClock()
        let start = clock.now
        let profile = try await CrossbarCalibration().run(on: twin) { _, _, _ in }
        let seconds = (clock.now - start).seconds
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        let c = CrossbarCalibrationComparison(result: r, truth: try CrossbarPhysics(importing: try await twin.exportState()))
        Self.expectAccepted(r, c, seed: seed)
        print(
            String(
                format:
                    "| %d | %.2f %% | %.3f µS | %.2f %% | %d/%d/%d | %.2f %% | %.3f µA (%.3f %% FS) | %.2f %% | %.2f (%.2f) | %d | %.1f s |",
                seed, c.windowErrorMax * 100, c.gMinErrorMaxUs, c.readNoiseRelativeError * 100, c.stuckTrue, c.stuckMissed,
                c.stuckFalse,
                c.adcGainErrorMax * 100, c.adcOffsetErrorMaxUa, c.adcOffsetErrorMaxFullScale * 100,
                c.writeNoiseRelativeError * 100, r.twinFidelity, r.twinFidelityIdealAdcs, r.pulsesTotal, seconds))
    }

    /// Right after a training run (hundreds of program-and-verify passes, then hours of
    /// drift) the calibration finds what it finds on the fresh board: the sweeps restart
    /// every device from a pulse, and the history only shows in the pulse counter.
    @Test func calibratingAfterTrainingGivesTheFreshResult() async throws {
        let config = Self.config(seed: 76, rows: 8, outputs: 2)
        let fresh = try CrossbarTwin(config: config)
        let trained = try CrossbarTwin(config: config)
        var rng = SeededRandom(seed: 9)
        for _ in 0..<200 {
            _ = try await trained.setParameters((0..<32).map { _ in 0.25 + 24.75 * rng.uniform() })
            _ = try await trained.measure(Matrix(rows: 32, cols: 8, repeating: 0.1))
        }
        try await trained.advanceTime(seconds: 3600)
        let procedure = CrossbarCalibration()
        let a = try await procedure.run(on: fresh) { _, _, _ in }
        let b = try await procedure.run(on: trained) { _, _, _ in }
        let ra = try a.payload(CrossbarCalibrationResult.self, for: a.identity)
        let rb = try b.payload(CrossbarCalibrationResult.self, for: b.identity)
        #expect(rb.pulsesBeforeCalibration > 10_000 && ra.pulsesBeforeCalibration == 0)
        for (r, twin) in [(ra, fresh), (rb, trained)] {
            let c = CrossbarCalibrationComparison(result: r, truth: await twin.snapshot())
            Self.expectAccepted(r, c, seed: 76)
        }
        #expect(ra.stuckDevices == rb.stuckDevices && ra.deadColumns == rb.deadColumns)
        for d in ra.gMaxUs.indices where !ra.stuckDevices.contains(d) {
            let window = ra.gMaxUs[d] - ra.gMinUs[d]
            #expect(abs(ra.gMaxUs[d] - rb.gMaxUs[d]) < 0.03 * window && abs(ra.gMinUs[d] - rb.gMinUs[d]) < 0.03 * window)
        }
        #expect(abs(ra.readNoise - rb.readNoise) < 0.1 * ra.readNoise)
    }

    @Test func calibratesAnEmulatedBoardOverALink() async throws {
        let seed: UInt64 = 63
        let (host, device) = MemoryLink.pair(seed: seed)
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: Self.config(seed: seed)), serial: "EMU-63")
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let connection = try await LinkConnection(
            port: "memory", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 1,
            configuration: .init(helloTimeout: 10),  // a loaded test host answers late
            opener: { host })
        let board = try CrossbarBoard(connection: connection)
        let profile = try await CrossbarCalibration().run(on: board) { _, _, _ in }
        #expect(profile.serial == "EMU-63")
        let r = try profile.payload(CrossbarCalibrationResult.self, for: board.descriptor.identity)
        let c = CrossbarCalibrationComparison(result: r, truth: try CrossbarPhysics(importing: try await emulator.exportState()))
        Self.expectAccepted(r, c, seed: seed)
        #expect(await emulator.violationCount == 0)
        // Every line is active again: a measurement agrees with the fitted twin.
        var twin = try r.twinPhysics(noise: false)
        let x = Matrix(rows: 1, cols: 16, storage: (0..<16).map { 0.1 * Double($0 % 3 - 1) })
        let measured = try await board.measure(x)
        let predicted = twin.forward(x)
        for j in 0..<4 where j != 1 {  // output 1 holds the dead column 2
            #expect(abs(measured[0, j] - predicted[0, j]) < 6 * r.outputNoiseUa + 0.2, "output \(j)")
        }
        await board.close()
    }

    @Test func refusesABudgetItCouldExceedBeforeAnyPulse() async throws {
        let twin = try CrossbarTwin(config: Self.config(seed: 64, rows: 4, outputs: 2))
        var procedure = CrossbarCalibration()
        procedure.pulseBudget = 1000
        await #expect(throws: CrossbarCalibrationError.overBudget(planned: 16 * 4 * 1000, budget: 1000)) {
            _ = try await procedure.run(on: twin) { _, _, _ in }
        }
        #expect(await twin.statistics().pulses == 0)
        // Within the budget, the bound holds.
        procedure.maxPulses = 15
        #expect(procedure.pulseBound(devices: 16) == 960)
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        #expect(r.pulsesTotal <= 960 && r.pulseBound == 960)
        #expect(await twin.statistics().pulses == r.pulsesTotal)
    }

    @Test func refusesABoardThatIsNotSafe() async throws {
        let board = try DoubtfulBoard(config: Self.config(seed: 65, rows: 4, outputs: 2), safe: false)
        await #expect(throws: CrossbarCalibrationError.notSafe("identify reports safe = 0 after safeState")) {
            _ = try await CrossbarCalibration().run(on: board) { _, _, _ in }
        }
        #expect(await board.twin.statistics().pulses == 0)
    }

    @Test func refusesSomethingThatIsNotACrossbar() async throws {
        let clln = try CLLNTwin(seed: 1)
        await #expect(throws: CrossbarCalibrationError.self) {
            _ = try await CrossbarCalibration().run(on: clln) { _, _, _ in }
        }
    }

    @Test func warnsAboutRefusedValuesAndWear() async throws {
        let twin = try CrossbarTwin(config: Self.config(seed: 66, rows: 4, outputs: 2))
        // A host sent an unsafe target; then the devices were cycled.
        _ = try? await twin.uncheckedProgram(Array(repeating: 1000, count: 16))
        for d in 0..<16 { for _ in 0..<20 { try await twin.pulse(device: d, set: d % 2 == 0) } }
        var procedure = CrossbarCalibration()
        procedure.wearWarningPulses = 10
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        #expect(r.pulsesBeforeCalibration == 320)
        #expect(r.warnings.contains { $0.contains("refused 1 out-of-range") }, "\(r.warnings)")
        #expect(r.warnings.contains { $0.contains("pulses each on average since power-up") }, "\(r.warnings)")
        #expect(try Self.figure(try procedure.headline(profile), "warnings") == 2)
    }

    /// A noise-free array (`--ideal`): exact constants, a finite fidelity (the σ floor is
    /// the ADC's quantisation noise), no false drift warning from rounding.
    @Test func aNoiseFreeArrayCalibratesExactly() async throws {
        var config = CrossbarConfig.ideal
        (config.rows, config.outputs) = (4, 2)
        let twin = try CrossbarTwin(config: config)
        let procedure = CrossbarCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        let c = CrossbarCalibrationComparison(result: r, truth: await twin.snapshot())
        #expect(c.windowErrorMax < 1e-6 && c.adcGainErrorMax < 1e-9 && r.readNoise < 1e-9 && r.writeNoise < 1e-6)
        #expect(r.twinFidelity.isFinite && r.twinFidelity < 0.01, "\(r.twinFidelity)")
        #expect(r.warnings.isEmpty, "\(r.warnings)")
    }

    @Test func aColumnReadingAConstantIsDead() async throws {
        let board = try DoubtfulBoard(config: Self.config(seed: 77, rows: 4, outputs: 2), frozenColumn: 1)
        let profile = try await CrossbarCalibration().run(on: board) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: board.descriptor.identity)
        #expect(r.deadColumns == [1, 2], "dead \(r.deadColumns)")  // 2 reads 0, 1 reads 0.7 µA
        #expect(r.adcGain[1] == 0 && r.adcGain[0] > 0.9 && r.adcGain[3] > 0.9)
    }

    @Test func warnsWhenTheDevicesDriftDuringTheCalibration() async throws {
        // Each measurement lets 100 s pass: the freshly programmed devices drift (ν ≈ 0.05).
        let board = try DoubtfulBoard(config: Self.config(seed: 67, rows: 4, outputs: 2), secondsPerMeasure: 100)
        let profile = try await CrossbarCalibration().run(on: board) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: board.descriptor.identity)
        #expect(r.warnings.contains { $0.contains("moved by -") && $0.contains("stale") }, "\(r.warnings)")
    }

    @Test func aTwinFromTheProfileImitatesTheDevice() async throws {
        let twin = try CrossbarTwin(config: Self.config(seed: 68, rows: 8, outputs: 2))
        let profile = try await CrossbarCalibration().run(on: twin) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        let fitted = try r.twinPhysics(noise: true, seed: 3)
        let truth = await twin.snapshot()
        #expect(fitted.config.readNoise == r.readNoise && fitted.deadColumns == [2])
        #expect(Set(fitted.stuck.indices.filter { fitted.stuck[$0] }) == Set(truth.stuck.indices.filter { truth.stuck[$0] }))
        for c in 0..<4 where c != 2 { #expect(abs(fitted.adcGain[c] / truth.adcGain[c] - 1) < 0.01) }
        let g = fitted.trueConductances(), t = truth.trueConductances()
        for d in g.indices { #expect(abs(g[d] - t[d]) < 0.02 * t[d] + 0.02, "device \(d)") }
    }

    /// `sim:crossbar --profile`: the family builds the twin of the calibrated device from the
    /// stored profile document, and records which profile it came from.
    @Test func theFamilyBuildsATwinFromAProfile() async throws {
        let device = try CrossbarTwin(config: Self.config(seed: 69, rows: 8, outputs: 2))
        let profile = try await CrossbarCalibration().run(on: device) { _, _, _ in }
        let entry = try #require(CrossbarFamily.twins.first { $0.name == "sim:crossbar" })
        let built = try entry.build(
            TwinRequest(seed: 4, profile: try JSONValue(parsing: Data(profile.json().utf8))))
        #expect(built.config["profile"]?["serial"] == .string("sim-69"))
        let twin = try #require(built.substrate as? CrossbarTwin)
        #expect(twin.descriptor.inputs.count == 8 && twin.descriptor.outputs.count == 2)
        // Both measure the same held-out inputs alike, within their noise.
        let x = Matrix(rows: 4, cols: 8, storage: (0..<32).map { 0.2 * sin(Double($0)) })
        let a = try await device.measure(x), b = try await twin.measure(x)
        for i in a.storage.indices {
            #expect(abs(a.storage[i] - b.storage[i]) < 1.0, "output \(i): \(a.storage[i]) vs \(b.storage[i])")
        }
        // A resumed run rebuilds the same twin from the recorded settings, profile noted.
        let again = try entry.build(TwinRequest(seed: 4, config: built.config))
        #expect(again.config["profile"] == built.config["profile"])
        // Another family's profile, or settings beside it, are refused.
        var foreign = try JSONValue(parsing: Data(profile.json().utf8))
        if case .object(var o) = foreign {
            o["family"] = .string("clln")
            foreign = .object(o)
        }
        #expect(throws: TwinError.self) { try entry.build(TwinRequest(seed: 4, profile: foreign)) }
        #expect(throws: TwinError.self) {
            try entry.build(
                TwinRequest(seed: 4, config: .object([:]), profile: try JSONValue(parsing: Data(profile.json().utf8))))
        }
    }
}

/// A crossbar whose history a test controls: it can claim not to be safe, and can let
/// simulated time pass at every measurement (so devices drift mid-calibration).
actor DoubtfulBoard: CrossbarVerbs {
    let twin: CrossbarTwin
    nonisolated let descriptor: SubstrateDescriptor
    let safe: Bool
    let secondsPerMeasure: Double
    /// A physical column whose ADC reads a constant 0.7 µA whatever the current.
    let frozenColumn: Int?

    init(config: CrossbarConfig, safe: Bool = true, secondsPerMeasure: Double = 0, frozenColumn: Int? = nil) throws {
        twin = try CrossbarTwin(config: config)
        descriptor = twin.descriptor
        self.safe = safe
        self.secondsPerMeasure = secondsPerMeasure
        self.frozenColumn = frozenColumn
    }

    func uncheckedProgram(_ targets: [Double]) async throws -> [Double] { try await twin.uncheckedProgram(targets) }
    func readParameters() async throws -> [Double] { await twin.readParameters() }
    func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await twin.advanceTime(seconds: secondsPerMeasure)
        return try await twin.uncheckedMeasure(inputs)
    }
    nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        twin.uncheckedStream(probes)
    }
    func enterSafeState() async throws { await twin.enterSafeState() }
    func arrayGeometry() async -> CrossbarGeometry { await twin.arrayGeometry() }
    func boardStatus() async throws -> CrossbarStatus {
        var s = try await twin.boardStatus()
        s.safe = safe
        return s
    }
    func pulseRead(_ pulses: [CrossbarPulse], shape: CrossbarPulseShape) async throws -> [Double] {
        try await twin.pulseRead(pulses, shape: shape)
    }
    func measureColumns(_ inputs: Matrix) async throws -> Matrix {
        var m = try await twin.measureColumns(inputs)
        if let c = frozenColumn { for b in 0..<m.rows { m[b, c] = 0.7 } }
        return m
    }
    func activateAllLines() async throws {}
}
