import Foundation
import OpticsDriver
import PNNCalibration
import PNNCore
import PNNSim
import Testing

/// The overlay layout (trainable grey levels added to the input macro-pixels) against a
/// hand-computed pattern and field, its state, its configuration rules and the twin entry's
/// choice of layout; and the calibration payloads' snake_case keys.
@Suite struct OpticsLayoutTests {
    /// 6 inputs, 4 trainable grey levels overlaid on the first 4, the nonlinear LUT on and
    /// every other effect off.
    static func overlayConfig() -> OpticsConfig {
        var c = OpticsConfig()
        c.inputs = 6
        c.parameters = 4
        c.layout = .overlay
        c.cameraWidth = 4
        c.cameraHeight = 3
        c.seed = 8
        c = c.idealised()
        c.lutEnabled = true
        return c
    }

    @Test func overlayShowsTheSumOfGreyLevelsModulo256ThroughTheLUT() throws {
        let c = Self.overlayConfig()
        #expect(c.problem() == nil && c.macroPixels == 6)
        var physics = try OpticsPhysics(config: c)
        physics.program([10, 200, 77, 100])
        let x = [-1, -0.5, 0, 0.25, 0.9, 1.0]
        let out = physics.forward(Matrix(rows: 1, cols: 6, storage: x))
        // By hand: input greys round(127.5 (v + 1)) = 0, 64, 128, 159, 242, 255; plus the
        // trainable 10, 200, 77, 100 on the first four, modulo 256: 10, 8, 205, 3, 242, 255.
        let shown: [Double] = [10, 8, 205, 3, 242, 255]
        let phase = shown.map { 2 * Double.pi * 1.05 * pow($0 / 255, 1.25) }
        let field = phase.map { (cos($0), sin($0)) }
        let intensity = OpticsPhysicsTests.expectedIntensity(physics, field: field)
        let scale = c.quantumEfficiency * c.photonFlux * c.exposure * c.conversionGain
        for m in 0..<c.roiPixels {
            #expect(abs(out[0, m] - (scale * intensity[m] + c.offset)) < 1e-9 * max(1, out[0, m]))
        }
        // The same inputs side by side see another field (the check can tell the layouts apart).
        var side = c
        side.layout = .sideBySide
        var sidePhysics = try OpticsPhysics(config: side)
        sidePhysics.program([10, 200, 77, 100])
        let other = sidePhysics.forward(Matrix(rows: 1, cols: 6, storage: x))
        #expect(side.macroPixels == 10 && other.cols == out.cols)
        #expect(zip(other.storage, out.storage).contains { abs($0 - $1) > 1 })
    }

    @Test func overlayRulesAreChecked() {
        var c = Self.overlayConfig()
        c.parameters = 7
        #expect(c.problem()?.contains("parameters (7) must be ≤ inputs (6)") == true)
        c.parameters = 6
        c.inputMode = .binary
        #expect(c.problem()?.contains("binary") == true)
        c.inputMode = .phase
        #expect(c.problem() == nil)
        #expect((0..<6).map(c.macroPixel(ofParameter:)) == Array(0..<6))
        c.layout = .sideBySide
        #expect((0..<6).map(c.macroPixel(ofParameter:)) == Array(6..<12))
    }

    @Test func overlayStateRoundTripsAndOldStatesStaySideBySide() async throws {
        var c = Self.overlayConfig()
        c.shotNoiseEnabled = true
        let twin = try OpticsTwin(config: c)
        _ = try await twin.setParameters([3, 250, 128, 64])
        let data = await twin.exportState()
        let text = try #require(String(data: data, encoding: .utf8))
        #expect(text.contains("\"layout\" : \"overlay\""))
        let restored = try OpticsTwin(importing: data)
        let x = Matrix(rows: 3, cols: 6, storage: (0..<18).map { Double($0 % 7) / 3 - 1 })
        #expect(try await restored.measure(x) == (try await twin.measure(x)))
        #expect(await restored.snapshot().config.layout == .overlay)
        // A state exported before layouts existed has no `layout` key: it was side by side.
        var old = OpticsPhysicsTests.idealConfig()
        old.seed = 2
        let oldData = try OpticsPhysics(config: old).exportState()
        var json = try #require(try JSONSerialization.jsonObject(with: oldData) as? [String: Any])
        var config = try #require(json["config"] as? [String: Any])
        #expect(config.removeValue(forKey: "layout") as? String == "side-by-side")
        json["config"] = config
        let stripped = try JSONSerialization.data(withJSONObject: json)
        let reloaded = try OpticsPhysics(importing: stripped)
        #expect(reloaded.config.layout == .sideBySide && reloaded.config.macroPixels == old.inputs + old.parameters)
    }

    /// `sim:optics` builds overlay with one trainable grey level per input line, unless told
    /// otherwise; binary inputs and runs recorded before layouts existed stay side by side.
    @Test func twinEntryChoosesItsLayout() throws {
        let entry = try #require(OpticsFamily.twins.first { $0.name == "sim:optics" })
        let geometry = TwinGeometry(inputs: 65, outputs: 10, task: "digits")
        func build(_ options: [String: String] = [:], config: JSONValue? = nil) throws -> (OpticsConfig, Int) {
            let built = try entry.build(
                TwinRequest(seed: 4, config: config, options: FamilyOptionValues(options), geometry: geometry))
            return (try built.config.decode(OpticsConfig.self), built.substrate.descriptor.parameters.count)
        }
        let (overlay, p) = try build()
        #expect(overlay.layout == .overlay && overlay.inputs == 65 && p == 65 && overlay.macroPixels == 65)
        let (side, q) = try build(["layout": "side-by-side"])
        #expect(side.layout == .sideBySide && q == 64 && side.macroPixels == 129)
        let (binary, _) = try build(["binary": "true"])
        #expect(binary.layout == .sideBySide && binary.inputMode == .binary)
        let (given, r) = try build(config: .object(["layout": .string("overlay"), "parameters": .number(20)]))
        #expect(given.layout == .overlay && r == 20)
        #expect(throws: (any Error).self) { try build(["layout": "diagonal"]) }
        // A run recorded before layouts existed: every always-written key but `layout`.
        var recordedConfig = OpticsConfig()
        recordedConfig.inputs = 65
        guard case .object(var recorded) = try JSONValue(encoding: recordedConfig) else {
            Issue.record("a config encodes as an object")
            return
        }
        recorded["layout"] = nil
        let (old, s) = try build(config: .object(recorded))
        #expect(old.layout == .sideBySide && s == 64)
    }

    /// The LUT calibration on an overlay twin (what `pnnlab calibrate sim:optics` now
    /// builds): the two regions are halves of the input macro-pixels, fringing corrected at
    /// the right boundary; within the issue's 0.05 rad.
    @Test func lutCalibrationWorksOnTheOverlayLayout() async throws {
        var config = OpticsConfig()
        config.layout = .overlay
        config.seed = 12
        #expect(config.macroPixels == 64)
        let twin = try OpticsTwin(config: config)
        let procedure = OpticsLUTCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let rms = try #require(try procedure.compare(profile, truth: await twin.exportState()).first)
        print("LUT on the overlay twin: \(rms.display)")
        #expect(rms.key == "lut_rms_error_rad" && rms.value <= 0.05, "\(rms.display)")
    }

    /// The settle calibration on an overlay twin whose trainable grey levels cover the whole
    /// SLM (a uniform step would be an invisible global phase): within the issue's 10 %.
    @Test func settleCalibrationWorksOnTheOverlayLayout() async throws {
        var config = OpticsConfig()
        config.layout = .overlay
        config.seed = 21
        #expect(config.macroPixels == config.parameters)
        let twin = try OpticsTwin(config: config)
        let procedure = OpticsSettleCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let figures = try procedure.compare(profile, truth: await twin.exportState())
        let error = try #require(figures.first { $0.key == "settle_time_relative_error" })
        print("settle time on the overlay twin: \(error.display)")
        #expect(abs(error.value) < 0.10, "\(error.display)")
    }

    /// Each payload read from its snake_case form, written back with the same keys, and
    /// read from a profile stored before (Swift property names) to the same value.
    @Test func calibrationPayloadsUseSnakeCaseAndReadOldProfiles() throws {
        func check<T: Codable & Equatable>(_ type: T.Type, new: String, old: String) throws {
            let value = try JSONDecoder().decode(T.self, from: Data(new.utf8))
            let written = try JSONEncoder().encode(value)
            let keys = (try JSONSerialization.jsonObject(with: written) as? [String: Any]).map { Set($0.keys) }
            let expected = (try JSONSerialization.jsonObject(with: Data(new.utf8)) as? [String: Any]).map { Set($0.keys) }
            #expect(keys == expected && keys?.contains { $0.contains(where: \.isUppercase) } == false, "\(T.self)")
            #expect(try JSONDecoder().decode(T.self, from: Data(old.utf8)) == value, "\(T.self) from an old profile")
            // CalibrationProfile.payload decodes converting from snake_case: both spellings still read.
            #expect(try JSONValue(parsing: Data(new.utf8)).decode(T.self, snakeCase: true) == value, "\(T.self)")
            #expect(try JSONValue(parsing: Data(old.utf8)).decode(T.self, snakeCase: true) == value, "\(T.self)")
        }
        try check(
            OpticsCameraResult.self,
            new:
                #"{"dark_level_dn":64.01,"gain_dn_per_e":0.2496,"read_noise_dn":1.0,"exposures_us":[100,200],"pixels_used":2000}"#,
            old:
                #"{"darkLevelDN":64.01,"gainDNPerElectron":0.2496,"readNoiseDN":1.0,"exposuresMicroseconds":[100,200],"pixelsUsed":2000}"#
        )
        try check(
            OpticsSettleResult.self,
            new:
                #"{"settle_delay_s":0.002,"settle_tau_s":0.004,"settle_time_s":0.018,"delays_s":[0,0.01],"response":[0,0.9],"residual":0.01}"#,
            old:
                #"{"settleDelaySeconds":0.002,"settleTauSeconds":0.004,"settleTimeSeconds":0.018,"delaysSeconds":[0,0.01],"response":[0,0.9],"residual":0.01}"#
        )
        try check(
            OpticsLUTResult.self, new: #"{"greys":[0,4],"phases_rad":[0,0.05],"ellipse_residual":0.02}"#,
            old: #"{"greys":[0,4],"phasesRad":[0,0.05],"ellipseResidual":0.02}"#)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(OpticsLUTResult.self, from: Data(#"{"greys":[0,4],"ellipseResidual":0.02}"#.utf8))
        }
        let camera = try JSONDecoder().decode(
            OpticsCameraResult.self,
            from: Data(#"{"dark_level_dn":64.01,"gain_dn_per_e":0.25,"read_noise_dn":1,"exposures_us":[],"pixels_used":2}"#.utf8))
        #expect(camera.darkLevelDN == 64.01 && camera.gainDNPerElectron == 0.25 && camera.pixelsUsed == 2)
    }
}
