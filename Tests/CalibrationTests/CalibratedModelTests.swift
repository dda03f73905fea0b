import CrossbarDriver
import Foundation
import PNNCalibration
import PNNCore
import PNNSim
import Testing

@testable import PNNDevices
@testable import PNNRuns

/// `pnnlab train --model-profile`: the crossbar family's model built from a calibration
/// predicts the calibrated device where the ideal model does not, is refused for another
/// device, and a deep plan resolves, records and applies it per unit.
@Suite struct CalibratedModelTests {
    /// A 5 × 3 array (iris's geometry) with large column ADC errors, stuck devices and a dead column.
    static func device(seed: UInt64) throws -> CrossbarTwin {
        var c = CrossbarConfig(rows: 5, outputs: 3, seed: seed)
        c.adcGainSpread = 0.2
        c.adcOffsetSpread = 0.01
        c.stuckFraction = 0.1
        c.deadColumns = [2]
        return try CrossbarTwin(config: c)
    }

    static func profileFile(_ profile: CalibrationProfile) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-profile-\(UUID().uuidString).json").path
        try profile.json().write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theCalibratedModelPredictsTheDeviceTheIdealOneDoesNot() async throws {
        let twin = try Self.device(seed: 91)
        let profile = try await CrossbarCalibration().run(on: twin) { _, _, _ in }
        let model = try #require(try CrossbarFamily.model(for: twin.descriptor, profile: profile))
        #expect(model is CalibratedCrossbarModel)
        let ideal = try #require(CrossbarFamily.model(for: twin.descriptor))
        let space = twin.descriptor.parameters
        let theta = (0..<space.count).map {
            space.lower[$0] + (0.2 + 0.6 * abs(sin(Double($0)))) * (space.upper[$0] - space.lower[$0])
        }
        _ = try await twin.setParameters(theta)
        let x = Matrix(rows: 12, cols: 5, storage: (0..<60).map { 0.25 * sin(0.7 * Double($0) + 0.3) })
        var measured = Matrix(rows: 12, cols: 3)
        let repeats = 16
        for _ in 0..<repeats {
            let y = try await twin.measure(x)
            for k in measured.storage.indices { measured.storage[k] += y.storage[k] / Double(repeats) }
        }
        func rms(_ m: any SubstrateModel) -> Double {
            let p = m.forward(theta: theta, inputs: x)
            return (zip(p.storage, measured.storage).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.storage.count))
                .squareRoot()
        }
        let (calibrated, nominal) = (rms(model), rms(ideal))
        #expect(calibrated < 0.25 * nominal, "calibrated model \(calibrated) µA RMS off, ideal \(nominal) µA")
        // Another board's profile is refused, naming both devices.
        let other = try Self.device(seed: 92)
        #expect(throws: CalibrationError.wrongDevice(profile: "crossbar sim-91", device: "crossbar sim-92")) {
            try CrossbarFamily.model(for: other.descriptor, profile: profile)
        }
    }

    @Test func aDeepPlanResolvesRecordsAndAppliesTheProfilePerUnit() async throws {
        let twin = try Self.device(seed: 93)
        let profile = try await CrossbarCalibration().run(on: twin) { _, _, _ in }
        let path = try Self.profileFile(profile)
        let resolved = try DeepModelProfile.resolve("\(path), ideal", units: 2, store: nil)
        #expect(resolved[1] == nil)
        let entry = try #require(resolved[0])
        #expect(entry.source == path)
        #expect(entry.profile["serial"] == .string("sim-93") && entry.profile["procedure"] == .string("crossbar-devices"))
        #expect(throws: RunError.self) { try DeepModelProfile.resolve(path, units: 2, store: nil) }
        #expect(throws: RunError.self) { try DeepModelProfile.resolve("12", units: 1, store: nil) }
        #expect(throws: RunError.self) { try DeepModelProfile.resolve("/nonexistent/p.json", units: 1, store: nil) }

        var plan = DeepPlan(device: "PORT", task: .iris, method: .pat, seed: 1, layers: [3])
        plan.modelProfiles = [entry]
        // The plan round-trips through the store's JSON with the profile in it.
        #expect(DeepPlan.from(json: try plan.json())?.modelProfiles == [entry])
        let opened = DeviceCatalog.Opened(substrate: twin, family: CrossbarFamily.self, twin: nil, connected: nil)
        let ideal = try #require(CrossbarFamily.model(for: twin.descriptor))
        let models = try plan.trainingModels(devices: [opened], ideal: [ideal])
        #expect(models[0] is CalibratedCrossbarModel)
        plan.modelProfiles = [nil]
        #expect(try plan.trainingModels(devices: [opened], ideal: [ideal])[0] is CrossbarModel)
        // On another board the profile is refused in one sentence.
        let other = try Self.device(seed: 94)
        plan.modelProfiles = [entry]
        let elsewhere = DeviceCatalog.Opened(substrate: other, family: CrossbarFamily.self, twin: nil, connected: nil)
        do {
            _ = try plan.trainingModels(devices: [elsewhere], ideal: [ideal])
            Issue.record("a profile of sim-93 was accepted for sim-94")
        } catch let error as RunError {
            #expect("\(error)".contains("not for this device (crossbar sim-94)"), "\(error)")
        }
    }
}
