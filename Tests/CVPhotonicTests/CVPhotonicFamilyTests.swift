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

/// Seed 000's squeezing multiplier on `sim:cv-photonic` (`--task multiply`).
@Suite struct CVMultiplierTests {
    func circuit(transmission: Double = 0.9) throws -> CVCircuit {
        var c = CVPhotonicConfig()
        c.layout = .multiplier
        c.inputs = 3
        c.readouts = 1
        c.transmission = transmission
        return try CVCircuit(config: c)
    }

    /// The fast readout (means and x covariance per input) equals the state built element by
    /// element (displacements, mesh A, input-set squeezers, mesh B, loss).
    @Test func fastReadoutMatchesTheElementByElementState() throws {
        let c = try circuit()
        #expect(c.modes == 2 && c.parameterCount == 8)
        var rng = SeededRandom(seed: 4)
        let angles = (0..<c.parameterCount).map { _ in 6 * rng.uniform() - 3 }
        let (a, b) = c.meshAngles(angles)
        let sa = c.meshSymplectic(a)
        let sb = c.meshSymplectic(b)
        for alpha in [[0.9, -1.2, 2.4], [-1.4, 0.3, 2.4], [0, 1, 0]] {
            let fast = c.multiplierReadout(meshA: sa, meshB: sb, inputs: alpha)
            let state = c.outputState(angles: angles, inputs: alpha)
            #expect(abs(fast.means[0] - state.means[0]) < 1e-12)
            #expect(abs(fast.covariance[0, 0] - state.covariance[0, 0]) < 1e-12)
        }
    }

    /// Rotations of π/4 before and after the squeezer of mode 0 give
    /// ⟨x⟩ = −2√T·u·sinh(κ u₀): a product of the two inputs to first order, with the
    /// squeezed/anti-squeezed noise e^{∓2κu₀} averaged into V_xx.
    @Test func quarterTurnsAroundTheSqueezerMultiply() throws {
        let c = try circuit(transmission: 0.81)
        var angles = [Double](repeating: 0, count: c.parameterCount)
        angles[2] = .pi / 4  // mesh A: final phase of mode 0
        angles[c.meshParameterCount + 2] = .pi / 4  // mesh B: final phase of mode 0
        let (a, b) = c.meshAngles(angles)
        let kappa = c.config.squeezeGain
        for (u0, u) in [(1.0, 0.5), (-0.6, 1.3), (0.0, 2.0)] {
            let out = c.multiplierReadout(meshA: c.meshSymplectic(a), meshB: c.meshSymplectic(b), inputs: [u0, u, 0])
            #expect(abs(out.means[0] - (-2 * 0.9 * u * sinh(kappa * u0))) < 1e-12)
            let v = 0.81 * cosh(2 * kappa * u0) + 0.19
            #expect(abs(out.covariance[0, 0] - v) < 1e-12)
        }
    }

    /// Gauss–Newton trains the circuit so output 0 reads x₁·x₂ on the 11 × 11 test grid over
    /// [−1, 1]² (exact means: the residual is the sinh's curvature, ~0.01).
    @Test func gaussNewtonTrainsTheMultiplier() async throws {
        let entry = try #require(FamilyRegistry.standard.twin(named: "sim:cv-photonic")).entry
        var config = TrainerConfig()
        config.evaluationRepeats = 1
        let probe = try PreparedTask(.multiply, config: config, amplitude: 1, seed: 3)
        #expect(probe.test.count == 121 && probe.train.count == 100)
        let built = try entry.build(
            TwinRequest(
                seed: 3, options: FamilyOptionValues(["ideal": "true"]),
                geometry: TwinGeometry(inputs: probe.encoder.inputCount, outputs: probe.classCount, task: "multiply")))
        #expect(built.substrate.descriptor.identity.model == "gaussian-twin-2m")
        let d = built.substrate.descriptor
        let task = probe.rescaled(amplitude: config.inputAmplitude * d.inputs.upper)
        let trainer = try Trainer(substrate: built.substrate, method: .gaussNewton, config: config, task: task)
        var state = try await trainer.initialState(seed: 3)
        let before = try await trainer.evaluate()
        while !trainer.isFinished(state) { _ = try await trainer.step(&state) }
        let after = try await trainer.evaluate()
        let rmsBefore = try #require(before.testRMSError)
        let rmsAfter = try #require(after.testRMSError)
        #expect(rmsBefore > 0.2, "before training \(rmsBefore)")
        #expect(rmsAfter < 0.03, "test-grid RMS error \(rmsAfter)")
        #expect(state.lastTestRMSError == rmsAfter)
    }
}
