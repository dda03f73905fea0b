import CrossbarDriver
import Foundation
import PNNCalibration
import PNNCore
import PNNSim
import Testing

/// Issue 14: the crossbar calibration's optional long mode measures conductance drift
/// G(t) = G0 (t/t0)^(−ν) on a twin with drift on (simulated time), counting its pulses.
@Suite struct CrossbarDriftTests {
    @Test(arguments: [81, 82] as [UInt64]) func recoversTheDriftExponent(seed: UInt64) async throws {
        let config = CrossbarCalibrationTests.config(seed: seed, rows: 8, outputs: 2)
        #expect(config.driftNuMean == 0.05 && config.driftNuSpread == 0.01)
        let twin = try CrossbarTwin(config: config)
        var procedure = CrossbarCalibration()
        procedure.driftSeconds = 2000
        let profile = try await procedure.run(on: twin) { _, _, _ in }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        let c = CrossbarCalibrationComparison(result: r, truth: try CrossbarPhysics(importing: await twin.exportState()))
        let meanError = try #require(c.driftNuMeanError), rmsError = try #require(c.driftNuRMSError)
        // Stated tolerance: mean ν within 0.003 (6 % of 0.05), each device within 0.005 RMS
        // (half the device-to-device spread).
        #expect(meanError < 0.003, "seed \(seed): mean ν error \(meanError)")
        #expect(rmsError < 0.005, "seed \(seed): per-device ν RMS error \(rmsError)")
        #expect(r.driftSeconds ?? 0 > 1900 && r.driftT0 == 20)
        // Two pulses per working device, counted in the total, inside the bound, seen by the board.
        let working = r.gMinUs.count - r.stuckDevices.count
        #expect(r.pulsesDrift == 2 * working)
        #expect(r.pulsesTotal == r.pulsesSweeps + r.pulsesRestore + 2 * working)
        #expect(r.pulsesTotal <= r.pulseBound && r.pulseBound == procedure.pulseBound(devices: r.gMinUs.count))
        #expect(r.pulsesBoardCounted == r.pulsesTotal)
        let figures = try procedure.headline(profile)
        #expect(figures.contains { $0.key == "drift_nu_mean" && $0.value == r.driftNuMean })
        // The device's twin drifts as measured; the prediction twin does not.
        #expect(try r.twinPhysics(noise: true, seed: 1).driftExponent == r.driftNu)
        #expect(try r.twinPhysics(noise: false).driftExponent.allSatisfy { $0 == 0 })
    }

    @Test func withoutTheOptionNothingIsMeasuredAndTooShortIsRefused() async throws {
        let twin = try CrossbarTwin(config: CrossbarCalibrationTests.config(seed: 83, rows: 4, outputs: 2))
        let plain = try await CrossbarCalibration().run(on: twin) { _, _, _ in }
        let r = try plain.payload(CrossbarCalibrationResult.self, for: twin.descriptor.identity)
        #expect(r.driftNu == nil && r.pulsesDrift == nil)
        let values = try FamilyOptionValues(
            parsing: ["--drift", "30"], declared: CrossbarCalibration().options, context: "test")
        let short = try CrossbarCalibration().configured(values)
        #expect(short.driftSeconds == 30)
        await #expect(throws: CrossbarCalibrationError.self) { _ = try await short.run(on: twin) { _, _, _ in } }
    }
}
