import Foundation
import OpticsDriver
import PNNCalibration
import PNNCore
import PNNSim
import Testing

/// Profiles drive twins (issue 14) for optics: `sim:optics --profile FILE` takes the LUT,
/// settle and camera constants a calibration measured on a rig with hidden constants.
@Suite struct OpticsProfileTwinTests {
    /// A rig whose constants are all off the twin's nominal ones, calibrated; its profile
    /// written to a file builds a twin carrying the measured values within the
    /// calibration's stated accuracies, records the profile and resumes on the same twin.
    @Test func aProfileDrivesTheOpticsTwin() async throws {
        var hidden = OpticsConfig()
        hidden.lutStroke = 0.93
        hidden.lutGamma = 1.45
        hidden.settleDelay = 0.003
        hidden.settleTau = 0.006
        hidden.gain = 3
        hidden.offset = 90
        hidden.readNoise = 1.6
        hidden.seed = 13
        let rig = try OpticsTwin(config: hidden)
        let profile = try await OpticsCalibration().run(on: rig) { _, _, _ in }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("optics-\(UUID()).json").path
        try profile.json().write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let document = try JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: file)))

        let entry = try #require(OpticsFamily.twins.first { $0.name == "sim:optics" })
        let geometry = TwinGeometry(inputs: 65, outputs: 10, task: "digits")
        let built = try entry.build(TwinRequest(seed: 3, geometry: geometry, profile: document))
        let twin = try #require(built.substrate as? OpticsTwin)
        let config = await twin.snapshot().config
        // LUT: the fitted stroke and γ reproduce the hidden table within 0.05 rad RMS.
        let (made, truth) = (
            PhaseSLM.lut(stroke: config.lutStroke, gamma: config.lutGamma),
            PhaseSLM.lut(stroke: hidden.lutStroke, gamma: hidden.lutGamma)
        )
        let lutRMS = (zip(made, truth).reduce(0) { $0 + pow($1.0 - $1.1, 2) } / 256).squareRoot()
        #expect(config.lutEnabled && lutRMS <= 0.05, "LUT RMS \(lutRMS) rad, stroke \(config.lutStroke) γ \(config.lutGamma)")
        // Settle within 10 %; gain within 3 %; dark within 1 DN; read noise within 20 %.
        let settle = config.settleDelay + 4 * config.settleTau
        #expect(abs(settle - 0.027) / 0.027 < 0.10, "settle \(settle) s")
        #expect(config.resolvedExposureDelay == settle)
        let gain = config.conversionGain * pow(10, config.gain / 20)
        let trueGain = hidden.conversionGain * pow(10, hidden.gain / 20)
        #expect(abs(gain - trueGain) / trueGain < 0.03, "gain \(gain) DN/e⁻, true \(trueGain)")
        #expect(abs(config.offset - 90) < 1, "dark \(config.offset) DN")
        #expect(abs(config.readNoise - 1.6) < 0.32, "read noise \(config.readNoise) DN")
        // What the profile does not measure stays nominal; the geometry is the task's.
        let nominal = OpticsConfig()
        #expect(config.crosstalk == nominal.crosstalk && config.photonFlux == nominal.photonFlux)
        #expect(config.fullWell == nominal.fullWell && config.darkCurrent == nominal.darkCurrent)
        #expect(config.layout == .overlay && config.inputs == 65 && config.seed == 3)
        // The run records the profile it used.
        let source = try #require(built.config["profile"])
        #expect(source["procedure"] == .string("optics") && source["serial"] == .string(profile.serial))
        #expect(source["measured"] == .array([.string("camera"), .string("lut"), .string("settle")]))
        // A resumed run rebuilds the same twin from the recorded settings, profile noted.
        let again = try entry.build(TwinRequest(seed: 9, config: built.config, geometry: geometry))
        #expect(again.config == built.config)
        #expect(await (again.substrate as? OpticsTwin)?.snapshot().config == config)

        // One part alone (the camera's) changes only what it measured.
        var camera = profile
        camera.procedure = OpticsCameraCalibration().name
        camera.payload = try #require(profile.payload["camera"])
        let part = try entry.build(
            TwinRequest(seed: 3, geometry: geometry, profile: try JSONValue(parsing: Data(camera.json().utf8))))
        let partConfig = try #require(await (part.substrate as? OpticsTwin)?.snapshot().config)
        #expect(partConfig.offset == config.offset && partConfig.conversionGain == config.conversionGain)
        #expect(partConfig.lutStroke == nominal.lutStroke && partConfig.settleTau == nominal.settleTau)
        #expect(part.config["profile"]?["measured"] == .array([.string("camera")]))
    }

    /// Another family's or procedure's profile, or settings beside it, are refused with one line.
    @Test func foreignProfilesAreRefused() throws {
        let entry = try #require(OpticsFamily.twins.first { $0.name == "sim:optics" })
        let identity = DeviceIdentity(family: "crossbar", model: "sim", serial: "sim-1", firmware: "1")
        func document(family: String, procedure: String) throws -> JSONValue {
            var id = identity
            id.family = family
            let p = CalibrationProfile(
                identity: id, procedure: procedure, procedureVersion: 1, summary: [:], payload: .object([:]))
            return try JSONValue(parsing: Data(p.json().utf8))
        }
        for (family, procedure, why) in [
            ("crossbar", "crossbar-devices", "the profile is a crossbar crossbar-devices profile, not an optics calibration"),
            ("optics", "optics-focus", "not an optics calibration (optics, optics-lut, optics-settle, optics-camera)"),
            ("optics", "optics", "holds no LUT, settle or camera result"),
        ] {
            do {
                _ = try entry.build(TwinRequest(seed: 1, profile: try document(family: family, procedure: procedure)))
                Issue.record("\(procedure) must be refused")
            } catch let error as TwinError {
                #expect(error.description.contains(why) && !error.description.contains("\n"), "\(error)")
            }
        }
        let valid = try document(family: "optics", procedure: "optics")
        #expect(throws: TwinError.self) {
            try entry.build(TwinRequest(seed: 1, options: FamilyOptionValues(["ideal": "true"]), profile: valid))
        }
        #expect(throws: TwinError.self) {
            try entry.build(TwinRequest(seed: 1, config: .object(["bits": .number(10)]), profile: valid))
        }
    }

    /// The LUT fit recovers an exact power law and stays within the twin's ranges.
    @Test func lutFitRecoversAPowerLaw() throws {
        let greys = Array(stride(from: 0, through: 252, by: 4)) + [255]
        let phases = greys.map { 2 * Double.pi * 1.2 * pow(Double($0) / 255, 0.8) }
        let fit = try #require(OpticsFamily.lutFit(greys: greys, phases: phases))
        #expect(abs(fit.stroke - 1.2) < 0.005 && abs(fit.gamma - 0.8) < 0.005 && fit.rms < 0.01, "\(fit)")
        #expect(OpticsFamily.lutFit(greys: [0, 255], phases: [0, 6]) == nil)
    }
}
