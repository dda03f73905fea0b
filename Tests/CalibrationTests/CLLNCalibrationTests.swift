import CLLNDriver
import Foundation
import PNNCalibration
import PNNCore
import PNNSim
import PNNStore
import Testing

/// The CLLN calibration against the twin's hidden A0 and B, the profile format and store.
@Suite struct CLLNCalibrationTests {
    static func truth(_ state: CLLNState) -> (a0: [Double], b: [Double]) {
        let t = state.topology.trainableEdges
        return (t.map { state.learningRates[$0] }, t.map { state.biases[$0] })
    }

    @Test func recoversTheHiddenLearningRateAndBias() async throws {
        let twin = try CLLNTwin(seed: 21)
        let procedure = CLLNCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        #expect(profile.serial == "sim-21" && profile.family == "clln" && profile.procedureVersion == 3)
        let result = try profile.payload(CLLNCalibrationResult.self, for: twin.descriptor.identity)
        let (a0, b) = Self.truth(await twin.exportState())
        let c = CLLNCalibrationComparison(result: result, trueLearningRates: a0, trueBiases: b)
        // The family's generic comparison gives the same figures from the exported state.
        let figures = try procedure.compare(profile, truth: await twin.exportState().exportJSON())
        #expect(figures.first { $0.key == "a0_relative_rms" }?.value == c.learningRateRelativeRMS)
        // The lab layout: every edge sees the clamp, so A0 is determined on all 32 edges.
        #expect(c.determinedEdges == 32, "A0 determined on \(c.determinedEdges) edges")
        #expect(c.learningRateRelativeRMS < 0.05, "A0 relative RMS \(c.learningRateRelativeRMS)")
        #expect(c.biasInterceptRMS < 0.1, "B (appendix C) RMS error \(c.biasInterceptRMS) V/s")
        // Appendix E (issue 14's acceptance): within 0.1 V/s RMS of the hidden B (σ = 2 V/s).
        #expect(result.biasDriftDetermined.allSatisfy { $0 })
        #expect(c.biasDriftRMS < 0.1, "B (appendix E) RMS error \(c.biasDriftRMS) V/s of \(c.biasScaleRMS)")
        #expect(result.referenceGate == 2.5 && result.warnings.isEmpty, "\(result.warnings)")
    }

    /// Issue 14: calibrating right after a training run left its gates on their limits gave a
    /// 56.8 % A0 error. The procedure starts every trial from the reference gates, so a trained
    /// board gives the fresh board's result, and gets its own gates back.
    @Test func aTrainedBoardCalibratesLikeAFreshOne() async throws {
        let fresh = try CLLNTwin(seed: 21)
        let trained = try CLLNTwin(seed: 21)
        // The twin's only memory of a training run is its gates: 56.8 % came from gates like these.
        var rng = SeededRandom(seed: 4)
        let left = (0..<32).map { e in e % 3 == 0 ? 0 : (e % 3 == 1 ? 5 : 5 * rng.uniform()) }
        _ = try await trained.setParameters(left)
        try await trained.setClamp(ClampSetting(mode: .clamped, targets: [0.3], eta: 1))
        let procedure = CLLNCalibration()
        let a = try await procedure.run(on: fresh) { _, _, _ in }.payload(
            CLLNCalibrationResult.self, for: fresh.descriptor.identity)
        let b = try await procedure.run(on: trained) { _, _, _ in }.payload(
            CLLNCalibrationResult.self, for: trained.descriptor.identity)
        for (x, y) in zip(a.learningRates, b.learningRates) { #expect(abs(x - y) <= 1e-9 * abs(x)) }
        for (x, y) in zip(a.biasDrift, b.biasDrift) { #expect(abs(x - y) <= 1e-9) }
        #expect(await trained.readParameters() == left)
    }

    /// A v1 payload (no drift mask, reference gate or warnings) still decodes.
    @Test func versionOnePayloadStillDecodes() throws {
        let v1 =
            #"{"learning_rates":[1,2],"bias_intercept":[0,0],"bias_drift":[0.5,0.5],"fit_residual":0,"determined":[true,false],"trials":4,"drift_tasks":3}"#
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let r = try decoder.decode(CLLNCalibrationResult.self, from: Data(v1.utf8))
        #expect(r.biasDriftDetermined == [true, true] && r.referenceGate == nil && r.warnings.isEmpty)
        #expect(r.learningRates == [1, 2] && r.driftTasks == 3)
    }

    @Test func profileIsVersionedAndTiedToItsDevice() throws {
        let identity = DeviceIdentity(family: "clln", model: "m", serial: "A1", firmware: "1")
        let profile = CalibrationProfile(
            identity: identity, procedure: "clln-learning-rule", procedureVersion: 1, summary: ["x": 1],
            payload: try JSONValue(
                parsing: Data(
                    #"{"learningRates":[1],"biasIntercept":[0],"biasDrift":[0],"fitResidual":0,"determined":[true],"trials":1,"driftTasks":0}"#
                        .utf8)))
        let back = try CalibrationProfile.decode(profile.json())
        #expect(back.serial == "A1" && back.summary == ["x": 1])
        let other = DeviceIdentity(family: "clln", model: "m", serial: "B2", firmware: "1")
        #expect(throws: CalibrationError.self) { try back.payload(CLLNCalibrationResult.self, for: other) }
        #expect(try back.payload(CLLNCalibrationResult.self, for: identity).learningRates == [1])
        let future = profile.json().replacingOccurrences(of: "\"formatVersion\" : 2", with: "\"formatVersion\" : 9")
        #expect(future != profile.json())
        #expect(throws: CalibrationError.formatVersion(found: 9, supported: 2)) { try CalibrationProfile.decode(future) }
        // Format 1 kept the payload as JSON text in a string: still read.
        var old = try JSONValue(parsing: Data(profile.json().utf8))
        if case .object(var o) = old {
            o["formatVersion"] = .number(1)
            o["payload"] = .string(profile.payload.jsonString())
            old = .object(o)
        }
        let upgraded = try CalibrationProfile.decode(old.jsonString())
        #expect(upgraded.payload == profile.payload && upgraded.formatVersion == 2)
        #expect(throws: CalibrationError.self) { try CalibrationProfile.decode("not json") }
    }

    @Test func storeKeepsProfilesPerSerial() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cal-\(UUID()).sqlite").path
        let store = try RunStore(path: path)
        try store.saveCalibration(
            CalibrationRecord(
                family: "clln", serial: "S1", procedure: "p", version: 1, createdAt: Date(timeIntervalSince1970: 1),
                profileJSON: "{}"))
        let id = try store.saveCalibration(
            CalibrationRecord(
                family: "clln", serial: "S1", procedure: "p", version: 1, createdAt: Date(timeIntervalSince1970: 2),
                profileJSON: "{\"n\":2}"))
        try store.saveCalibration(CalibrationRecord(family: "clln", serial: "S2", procedure: "p", version: 1, profileJSON: "{}"))
        #expect(try store.calibrations(serial: "S1").count == 2)
        #expect(try store.latestCalibration(serial: "S1", family: "clln")?.id == id)
        #expect(try store.calibrations().count == 3)
    }

    @Test func aDeviceWithoutALearningRuleCannotBeCalibrated() async throws {
        let resistor = try ResistorNetworkTwin(conductanceRange: 1e-4...3e-3)
        do {
            _ = try await CLLNCalibration().run(on: resistor) { _, _, _ in }
            Issue.record("must refuse")
        } catch let e as SubstrateError {
            #expect(e.description.contains("self-learning"))
        }
    }
}
