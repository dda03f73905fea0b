import Foundation
import OpticsDriver
import PNNCalibration
import PNNCore
import PNNSim
import Testing

/// The settle calibration recovers the twin's hidden t0 + 4b within 10 % (issue 12's figure).
@Suite struct OpticsCalibrationTests {
    @Test(arguments: [(0.002, 0.004), (0.005, 0.012), (0.0005, 0.0015)])
    func settleTimeIsRecovered(delay: Double, tau: Double) async throws {
        var config = OpticsConfig()
        config.settleDelay = delay
        config.settleTau = tau
        config.seed = 21
        let twin = try OpticsTwin(config: config)
        let procedure = OpticsSettleCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let figures = try procedure.compare(profile, truth: await twin.exportState())
        let error = try #require(figures.first { $0.key == "settle_time_relative_error" })
        #expect(abs(error.value) < 0.10, "\(error.display)")
        let headline = try procedure.headline(profile)
        #expect(headline.map(\.key) == ["settle_time_s", "settle_delay_s", "settle_tau_s"])
    }

    @Test func fitRecoversAnExactCurve() {
        let t = (0..<21).map { 0.03 * Double($0) / 20 }
        let y = t.map { $0 < 0.003 ? 0.1 : 1.1 - 1.0 * exp(-($0 - 0.003) / 0.005) }
        let f = OpticsSettleCalibration.fit(t, y)
        #expect(abs(f.t0 + 4 * f.b - 0.023) / 0.023 < 0.03)
    }
}

/// The camera calibration recovers gain within 3 % and the black level within 1 DN.
@Suite struct OpticsCameraCalibrationTests {
    @Test(arguments: [(0.0, 64.0, 1.0), (6.0, 100.0, 2.5)])
    func cameraConstantsAreRecovered(gain: Double, offset: Double, readNoise: Double) async throws {
        var config = OpticsConfig()
        config.gain = gain
        config.offset = offset
        config.readNoise = readNoise
        config.seed = 8
        let twin = try OpticsTwin(config: config)
        let procedure = OpticsCalibration()
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let figures = try procedure.compare(profile, truth: await twin.exportState())
        func figure(_ key: String) throws -> CalibrationFigure { try #require(figures.first { $0.key == key }) }
        #expect(abs(try figure("gain_relative_error").value) < 0.03)
        #expect(abs(try figure("dark_level_error_dn").value) < 1)
        #expect(abs(try figure("read_noise_error_dn").value) < 0.2 * readNoise)
        #expect(abs(try figure("settle_time_relative_error").value) < 0.1)
        #expect(try procedure.headline(profile).count == 7)
        #expect(try figure("lut_rms_error_rad").value <= 0.05)
    }
}

/// The LUT calibration recovers the grey → phase table from two interfering SLM regions.
@Suite struct OpticsLUTCalibrationTests {
    /// Within the 0.05 rad with and without fringing when the calibration is told the
    /// SLM's κ (the ellipse alone: ~0.08 rad at κ = 0.04, the region boundary bends it); a κ
    /// off by 0.01 still lands within the bound.
    @Test(arguments: [
        (1.05, 1.25, 0.0, 0.0, 0.05), (0.9, 1.0, 0.0, 0.0, 0.05), (1.05, 1.25, 0.04, 0.04, 0.05),
        (1.3, 1.6, 0.04, 0.04, 0.05), (1.05, 1.25, 0.04, 0.03, 0.05), (1.05, 1.25, 0.04, 0.05, 0.05),
        (1.05, 1.25, 0.04, 0.0, 0.1),
    ])
    func lutIsRecovered(stroke: Double, gamma: Double, crosstalk: Double, assumed: Double, bound: Double) async throws {
        var config = OpticsConfig()
        config.lutStroke = stroke
        config.lutGamma = gamma
        config.crosstalk = crosstalk
        config.seed = 12
        let twin = try OpticsTwin(config: config)
        var procedure = OpticsLUTCalibration()
        procedure.fringing = assumed
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let rms = try #require(try procedure.compare(profile, truth: await twin.exportState()).first)
        print("LUT stroke \(stroke) γ \(gamma) κ \(crosstalk), corrected for κ \(assumed): \(rms.display)")
        #expect(rms.value <= bound, "\(rms.display)")
    }

    @Test func fringingOptionIsRead() throws {
        let declared = OpticsLUTCalibration().options
        let values = try FamilyOptionValues(parsing: ["--fringing", "0.02"], declared: declared, context: "optics-lut")
        #expect(try OpticsLUTCalibration().configured(values).fringing == 0.02)
        #expect(OpticsLUTCalibration().fringing == 0.04)
    }
}
