import CVPhotonicDriver
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNSim
import PNNTraining
import Testing

/// `sim:cv-photonic` through the registry: built, sized to a task, exported, refused as a
/// board, and trained by the existing trainers.
@Suite struct CVPhotonicFamilyTests {
    @Test func registryOffersTheTwinAndSaysTheFamilyHasNoLink() async throws {
        let registry = FamilyRegistry.standard
        let found = try #require(registry.twin(named: "sim:cv-photonic"))
        #expect(found.family.family == "cv-photonic")
        let linked = found.family.hasLink
        #expect(linked == false)
        let crossbarLinked = registry.family(named: "crossbar").map { $0.hasLink }
        #expect(crossbarLinked == true)
        #expect(throws: CVPhotonicFamilyError.self) { _ = try CVPhotonicFamily.emulator(EmulatorSettings()) }
        #expect(CVPhotonicFamily.conformanceChecks.isEmpty)
    }

    @Test func twinIsSizedToTheTaskAndExportRebuildsIt() async throws {
        let entry = try #require(FamilyRegistry.standard.twin(named: "sim:cv-photonic")).entry
        let built = try entry.build(TwinRequest(seed: 5, geometry: TwinGeometry(inputs: 15, outputs: 3)))
        let d = built.substrate.descriptor
        #expect(d.inputs.count == 15 && d.outputs.count == 3)
        #expect(d.parameters.unit == .radian && d.parameters.resolution.allSatisfy { $0 == 0.01 })
        #expect(d.identity.family == "cv-photonic")
        // The resolved settings rebuild the same twin; so does the exported state.
        let again = try entry.build(TwinRequest(seed: 99, config: built.config))
        #expect(try await again.substrate.readParameters() == (try await built.substrate.readParameters()))
        let state = try await entry.exportState(built.substrate)
        let restored = try entry.build(TwinRequest(seed: 1, state: state))
        let x = Matrix(rows: 2, cols: 15, storage: (0..<30).map { Double($0 % 7) * 0.3 - 0.9 })
        #expect(try await built.substrate.measure(x) == (try await restored.substrate.measure(x)))
        // Unknown [twin] keys are refused, not ignored.
        #expect(throws: TwinError.self) {
            _ = try entry.build(TwinRequest(seed: 1, config: .object(["shot": .number(10)])))
        }
    }

    /// Gauss–Newton on Iris with exact means (no shot noise): the circuit is a linear
    /// classifier on the quadratic encoding, which separates Iris well.
    @Test func gaussNewtonTrainsIrisOnTheTwin() async throws {
        let entry = try #require(FamilyRegistry.standard.twin(named: "sim:cv-photonic")).entry
        var config = TrainerConfig()
        config.epochs = 4
        config.evaluationRepeats = 1
        let probe = try PreparedTask(.iris, config: config, amplitude: 1, seed: 2)
        let built = try entry.build(
            TwinRequest(
                seed: 2, options: FamilyOptionValues(["ideal": "true"]),
                geometry: TwinGeometry(inputs: probe.encoder.inputCount, outputs: probe.classCount)))
        let d = built.substrate.descriptor
        let task = probe.rescaled(amplitude: config.inputAmplitude * d.inputs.upper)
        let trainer = try Trainer(substrate: built.substrate, method: .gaussNewton, config: config, task: task)
        let before = try await trainer.evaluate()
        var state = try await trainer.initialState(seed: 2)
        while !trainer.isFinished(state) { _ = try await trainer.step(&state) }
        let after = try await trainer.evaluate()
        #expect(after.trainAccuracy > 0.85, "train accuracy \(after.trainAccuracy)")
        #expect(after.trainLoss < before.trainLoss)
    }
}
