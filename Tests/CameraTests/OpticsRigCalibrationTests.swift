import CameraDriver
import Foundation
import OpticsDriver
import PNNCalibration
import PNNCore
import PNNDevices
import PNNLink
import PNNSim
import Testing

/// Calibration over the links: the SLM's grey → phase table measured through an optics rig
/// of `pnnlab emulate optics` (an SLM and a camera on one bench, two ptys), compared with
/// the bench's hidden table.
@Suite(.serialized) struct OpticsRigCalibrationTests {
    @Test(arguments: [true, false])
    func lutIsRecoveredOverTheLinks(lineWired: Bool) async throws {
        var words = ["--width", "16", "--height", "16", "--camera-width", "32", "--camera-height", "16"]
        if !lineWired { words.append("--no-trigger-line") }
        let options = try FamilyOptionValues(parsing: words, declared: OpticsFamily.emulatorOptions, context: "optics")
        let boards = try OpticsFamily.emulators(EmulatorSettings(seed: 17, options: options))
        let bench = try #require((boards[0].endpoint as? SLMEmulator)?.bench)
        let hosts = try boards.map { try PtyEmulatorHost(endpoint: $0.endpoint) }
        let serving = hosts.map { host in Task { await host.run() } }
        let slmBoard = try await DeviceCatalog.connect(.serial(path: hosts[0].path, baud: 115_200))
        let cameraBoard = try await DeviceCatalog.connect(.serial(path: hosts[1].path, baud: 115_200))
        let slm = try #require(slmBoard.substrate as? SLMDevice)
        let camera = try #require(cameraBoard.substrate as? CameraDevice)
        let rig = try OpticsRig(slm: slm, camera: camera, inputs: 128, parameters: 64)
        #expect(rig.sync == (lineWired ? .hardware : .software))

        let procedure = OpticsLUTCalibration()
        let profile = try await procedure.run(on: rig) { _, _, _ in }
        let result = try profile.payload(OpticsLUTResult.self, for: profile.identity)
        let lut = bench.config.lutEnabled ? PhaseSLM.lut(stroke: bench.config.lutStroke, gamma: bench.config.lutGamma) : []
        #expect(lut.count == 256 && bench.slm.crosstalk == 0.04, "the bench keeps the twin's default LUT and fringing")
        func rms(_ phases: [Double]) -> Double {
            var sum = 0.0
            for (g, phi) in zip(result.greys, phases) { sum += pow(phi - (lut[g] - lut[0]), 2) }
            return (sum / Double(result.greys.count)).squareRoot()
        }
        let error = rms(result.phasesRad)
        #expect(error <= 0.03, "LUT over the links: \(error) rad RMS (issue: 0.05)")
        #expect(await rig.pairs == result.greys.count * procedure.repeats, "one frame per pattern shown")
        print("LUT over the links (\(rig.sync.rawValue) sync, 16×16 SLM, 32×16 camera): \(error) rad RMS")

        try await rig.enterSafeState()
        await slmBoard.connection.close()
        await cameraBoard.connection.close()
        for s in serving { s.cancel() }
        for h in hosts { await h.stop() }
    }
}
