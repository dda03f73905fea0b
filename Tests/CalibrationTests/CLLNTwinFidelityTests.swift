import CLLNDriver
import Foundation
import PNNCalibration
import PNNCore
import PNNDevices
import PNNLink
import PNNRuns
import PNNSim
import PNNStore
import Testing

/// Issue 14: a CLLN profile drives a `sim:clln` twin, and `pnnlab calibrate` reports how well
/// that twin predicts the board (twin fidelity), over a real pty.
@Suite struct CLLNTwinFidelityTests {
    static func scratchStore() throws -> RunStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clln-fid-\(UUID()).sqlite").path
        return try RunStore(path: path)
    }

    static func truth(_ state: CLLNState) -> (a0: [Double], b: [Double]) {
        let t = state.topology.trainableEdges
        return (t.map { state.learningRates[$0] }, t.map { state.biases[$0] })
    }

    static func rms(_ x: [Double]) -> Double { sqrt(x.map { $0 * $0 }.reduce(0, +) / Double(max(x.count, 1))) }

    /// Acceptance: `pnnlab calibrate PORT --json` on `pnnlab emulate clln` (a new seed, its
    /// constants hidden from the procedure) over a pty: twin fidelity ≤ 1.5, A0 within 5 %, B
    /// within 0.1 V/s RMS both ways; the nominal twin (no calibration) is far worse.
    @Test func twinFidelityOverAPty() async throws {
        let options = try FamilyOptionValues(parsing: [], declared: CLLNFamily.emulatorOptions, context: "emulate clln")
        let endpoint = try CLLNFamily.emulator(EmulatorSettings(seed: 43, options: options))
        let host = try PtyEmulatorHost(endpoint: endpoint)
        let serving = Task { await host.run() }
        defer {
            serving.cancel()
            Task { await host.stop() }
        }
        let store = try Self.scratchStore()
        let report = try await CalibrationRun.run(
            device: host.path, seed: 1, optionWords: [], baud: 115_200, store: store
        ) { _, _, _ in }
        #expect(report.family == "clln" && report.serial == "EMU-43" && report.procedureVersion == 3)
        // As `--json` prints it.
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        let json = try JSONValue(parsing: try encoder.encode(report))
        guard case .number(let fidelity) = json["twin_fidelity"] else {
            Issue.record("calibrate --json has no twin_fidelity")
            return
        }
        #expect(fidelity.isFinite && fidelity <= 1.5, "twin fidelity \(fidelity)")
        let r = try report.profile.payload(CLLNCalibrationResult.self, for: report.profile.identity)
        let nominal = try #require(r.twinFidelityNominal)
        #expect(nominal > 10 * max(fidelity, 0.1), "nominal twin \(nominal) vs calibrated \(fidelity)")
        #expect(r.fidelityTrials == 12 && r.fidelityRepeats == 4 && (r.learningSeconds ?? 0) > 0)
        func truth(_ key: String) -> Double { report.truthFigures?.first { $0.key == key }?.value ?? .infinity }
        #expect(truth("a0_relative_rms") < 0.05)
        #expect(truth("b_intercept_rms_v_per_s") < 0.1 && truth("b_drift_rms_v_per_s") < 0.1)
        #expect(truth("b_twin_rms_v_per_s") < 0.1)
    }

    /// `sim:clln --profile`: the family builds the twin of a calibrated board from the stored
    /// profile (through the device catalog, as `pnnlab train sim:clln --profile ID` does): it
    /// holds the board's gates, A0 and B, predicts the board's outputs after learning, records
    /// the profile it came from, and resumes on the same twin.
    @Test func aProfileDrivesTheTwin() async throws {
        let board = try CLLNTwin(seed: 44)
        let profile = try await CLLNCalibration().run(on: board) { _, _, _ in }
        let store = try Self.scratchStore()
        let id = try store.saveCalibration(
            CalibrationRecord(
                family: profile.family, serial: profile.serial, procedure: profile.procedure,
                version: profile.procedureVersion, createdAt: profile.createdAt, profileJSON: profile.json()))
        let opened = try await DeviceCatalog.open(
            "sim:clln", twin: .init(seed: 5, optionWords: ["--profile", "\(id)"]), store: store)
        let twin = try #require(opened.substrate as? CLLNTwin)
        let spec = try #require(opened.twin)
        #expect(spec.config["profile"]?["serial"] == .string("sim-44"))
        #expect(spec.config["profile"]?["procedure"] == .string("clln-learning-rule"))
        let (state, hidden) = (await twin.exportState(), await board.exportState())
        #expect(state.gates == hidden.gates && state.topology == hidden.topology)
        let (a0, b) = Self.truth(state), (trueA0, trueB) = Self.truth(hidden)
        #expect(Self.rms(zip(a0, trueA0).map { ($0 - $1) / $1 }) < 0.05)
        #expect(Self.rms(zip(b, trueB).map { $0 - $1 }) < 0.1)
        // The same learning step on both: their outputs agree far better than the board's own
        // learning moved them.
        let x = board.topology.sourceVoltages(for: [0.3, 0.15], vPlus: 0.435, vMinus: 0.018)
        let m = Matrix(rows: 1, cols: x.count, storage: x)
        let start = try await board.measure(m)[0, 0]
        for device in [board, twin] as [CLLNTwin] {
            try await device.applyInputs(x)
            try await device.setClamp(ClampSetting(mode: .clamped, targets: [start + 0.02], eta: 1))
            try await device.learn(seconds: 0.01)
        }
        let (after, predicted) = (try await board.measure(m)[0, 0], try await twin.measure(m)[0, 0])
        #expect(abs(after - start) > 1e-4, "the step moved the output by \(after - start) V")
        #expect(abs(predicted - after) < 0.02 * abs(after - start), "twin \(predicted) V, board \(after) V")
        // A resumed run rebuilds the same twin from the recorded settings, profile noted.
        let entry = try #require(CLLNFamily.twins.first { $0.name == "sim:clln" })
        let again = try entry.build(TwinRequest(seed: 5, config: spec.config))
        #expect(again.config["profile"] == spec.config["profile"])
        #expect(await (again.substrate as? CLLNTwin)?.exportState().biases == state.biases)
        // A profile file works as well as an id; other settings beside it, or another
        // family's profile, are refused.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clln-\(UUID()).json").path
        try profile.json().write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try await DeviceCatalog.open("sim:clln", twin: .init(seed: 5, optionWords: ["--profile", file]))
        #expect(fromFile.twin?.config["profile"] == spec.config["profile"])
        await #expect(throws: TwinError.self) {
            _ = try await DeviceCatalog.open(
                "sim:clln", twin: .init(seed: 5, optionWords: ["--profile", file, "--no-bias"]))
        }
        var foreign = try JSONValue(parsing: Data(profile.json().utf8))
        if case .object(var o) = foreign {
            o["family"] = .string("crossbar")
            foreign = .object(o)
        }
        #expect(throws: TwinError.self) { try entry.build(TwinRequest(seed: 5, profile: foreign)) }
    }

    /// With read noise on the board the twin cannot beat the noise: fidelity ≈ 1 (the error is
    /// the noise), and the measured noise is the board's.
    @Test func aNoisyBoardGivesFidelityNearOne() async throws {
        var physics = CLLNPhysics()
        physics.readNoise = 1e-3
        let board = try CLLNTwin(topology: .periodicLattice(), physics: physics, seed: 45)
        let profile = try await CLLNCalibration().run(on: board) { _, _, _ in }
        let r = try profile.payload(CLLNCalibrationResult.self, for: board.descriptor.identity)
        let noise = try #require(r.outputNoise), fidelity = try #require(r.twinFidelity)
        #expect(abs(noise / 1e-3 - 1) < 0.25, "measured read noise \(noise) V")
        #expect(fidelity > 0.8 && fidelity < 1.3, "twin fidelity \(fidelity)")
    }

    /// A profile from before version 3 holds no wiring or gates: no twin can be built from it.
    @Test func anOldProfileCannotDriveATwin() throws {
        let identity = DeviceIdentity(family: "clln", model: "m", serial: "A1", firmware: "1")
        let old = CalibrationProfile(
            identity: identity, procedure: "clln-learning-rule", procedureVersion: 2, summary: [:],
            payload: try JSONValue(
                parsing: Data(
                    #"{"learning_rates":[1],"bias_intercept":[0],"bias_drift":[0],"fit_residual":0,"determined":[true],"trials":1,"drift_tasks":0}"#
                        .utf8)))
        let entry = try #require(CLLNFamily.twins.first { $0.name == "sim:clln" })
        do {
            _ = try entry.build(TwinRequest(seed: 1, profile: try JSONValue(parsing: Data(old.json().utf8))))
            Issue.record("must refuse")
        } catch let error as TwinError {
            #expect(error.description.contains("calibrate the board again"))
        }
    }
}
