import Foundation
import PNNCore
import PNNSim
import PNNStore
import Synchronization
import Testing

@testable import PNNDevices
@testable import PNNRuns
@testable import PNNTraining

/// Deep cascades on crossbar twins. Kept small (digits, 240 training samples, a few epochs)
/// so each test is a second or two of compute.
@Suite("Deep cascades of units")
struct DeepCascadeTests {
    func plan(_ method: DeepMethod, layers: [Int] = [12, 10], epochs: Int = 3, seed: UInt64 = 4, amplitude: Double = 0.8)
        -> DeepPlan
    {
        var config = TrainerConfig()
        config.epochs = epochs
        config.subset = 240
        config.inputAmplitude = amplitude
        return DeepPlan(device: "sim:crossbar", task: .digits, method: method, seed: seed, layers: layers, trainer: config)
    }

    func trainer(_ plan: DeepPlan, ideal: Bool) async throws -> (DeepTrainer, OpenedDeepRun) {
        let opened = try await plan.open(twinOptionWords: ideal ? ["--ideal"] : [])
        let t = try DeepTrainer(
            units: opened.units, models: opened.models, widths: plan.layers, method: plan.method, config: plan.trainer,
            task: opened.task, seed: plan.seed)
        return (t, opened)
    }

    @Test func everyUnitGetsItsOwnTwinSizedToIt() async throws {
        let (t, opened) = try await trainer(plan(.pat, layers: [12, 7, 10]), ideal: false)
        let d = t.units.map(\.descriptor)
        #expect(d.map(\.inputs.count) == [65, 13, 8])
        #expect(d.map(\.outputs.count) == [12, 7, 10])
        #expect(Set(d.map(\.identity.serial)).count == 3, "each unit is a different array (derived seeds)")
        #expect(opened.twins?.count == 3)
    }

    /// Saturating parameters and the full input range: the drive of every unit stays inside
    /// its declared safe range (measured with the refusing policy), and reaches its edge.
    @Test func aCascadeForwardRespectsEveryUnitsSafeRange() async throws {
        let (t, _) = try await trainer(plan(.pat, layers: [12, 6, 10], amplitude: 1), ideal: false)
        for unit in t.units {
            let s = unit.descriptor.parameters
            // G+ at the top, G− at the bottom: every output as large as the array allows.
            _ = try await unit.setParameters((0..<s.count).map { $0 % 2 == 0 ? s.upper[$0] : s.lower[$0] })
        }
        let a = t.architecture
        var peak = [Double](repeating: 0, count: t.units.count)
        let trace = try await a.forward(t.task.trainInputs) { l, x in
            let range = t.units[l].descriptor.inputs
            for v in x.storage {
                #expect(v >= range.lower && v <= range.upper)
                peak[l] = max(peak[l], abs(v))
            }
            return try await t.units[l].measure(x, policy: .reject)
        }
        #expect(trace.outputs.count == 3)
        for l in 1..<3 {
            #expect(peak[l] > 0.95 * t.units[l].descriptor.inputs.upper, "unit \(l + 1) was not driven to its edge")
        }
    }

    /// Evaluation's forward pass keeps only the current unit's inputs; its logits are the
    /// full trace's, on the models and on the devices (the ideal twin is its model).
    @Test func forwardLastGivesTheTracesLogits() async throws {
        let (t, _) = try await trainer(plan(.pat, layers: [12, 6, 10]), ideal: true)
        let state = try await t.initialState()
        let a = t.architecture
        let x = t.task.testInputs
        let full = a.modelForward(x, models: t.models, theta: state.theta).logitsSource
        let last = a.modelForwardLast(x, models: t.models, theta: state.theta)
        #expect(last.rows == x.rows && last.cols == 10)
        #expect(last == full)
        let measured = try await a.forwardLast(x) { l, xl in try await t.units[l].measure(xl) }
        let diff = zip(measured.storage, full.storage).map { abs($0 - $1) }.max() ?? .infinity
        let scale = full.storage.map(abs).max() ?? 1
        #expect(diff < 1e-6 * max(scale, 1), "ideal twins measure what their models compute")
    }

    @Test func patOnTheIdealTwinLowersTheLoss() async throws {
        let (t, _) = try await trainer(plan(.pat, epochs: 3), ideal: true)
        var state = try await t.initialState()
        let before = t.modelEvaluation(state.theta)
        var measurements = [Int](repeating: 0, count: t.units.count)
        let measuredBefore = try await t.evaluate(&measurements)
        #expect(abs(measuredBefore.loss - before.loss) < 1e-6 * max(1, before.loss), "the ideal twin is its model")
        while !t.isFinished(state) { _ = try await t.step(&state) }
        let after = try #require(state.lastLoss)
        #expect(after < 0.5 * before.loss, "loss \(before.loss) → \(after)")
        #expect((state.lastTestAccuracy ?? 0) > 0.7)
        #expect(state.unitMeasurements.allSatisfy { $0 > 0 })
    }

    /// The vjp against central differences of the model (both parts).
    @Test func theCrossbarVJPMatchesFiniteDifferences() {
        let m = CrossbarModel(rows: 3, outputs: 2)
        var rng = SeededRandom(seed: 9)
        let theta = (0..<m.parameterCount).map { _ in 1 + 20 * rng.uniform() }
        let x = Matrix(rows: 2, cols: 3, storage: (0..<6).map { _ in rng.uniform() - 0.5 })
        let v = Matrix(rows: 2, cols: 2, storage: (0..<4).map { _ in rng.normal() })
        func f(_ th: [Double], _ xx: Matrix) -> Double {
            zip(m.forward(theta: th, inputs: xx).storage, v.storage).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let (gt, gx) = m.vjp(theta: theta, inputs: x, cotangent: v)
        let h = 1e-5
        for i in theta.indices {
            var p = theta, q = theta
            p[i] += h
            q[i] -= h
            #expect(abs((f(p, x) - f(q, x)) / (2 * h) - gt[i]) < 1e-6)
        }
        for i in x.storage.indices {
            var p = x, q = x
            p.storage[i] += h
            q.storage[i] -= h
            #expect(abs((f(theta, p) - f(theta, q)) / (2 * h) - gx.storage[i]) < 1e-6)
        }
    }

    @Test func dfaOnTheNoisyTwinBeatsChance() async throws {
        let (t, _) = try await trainer(plan(.dfa, epochs: 4), ideal: false)
        var state = try await t.initialState()
        while !t.isFinished(state) { _ = try await t.step(&state) }
        // Ten classes: chance is 10 %.
        #expect((state.lastTestAccuracy ?? 0) > 0.5, "test accuracy \(state.lastTestAccuracy ?? -1)")
    }

    @Test func inSilicoTouchesTheDevicesOnlyToDeploy() async throws {
        let (t, _) = try await trainer(plan(.inSilico, epochs: 3), ideal: false)
        var state = try await t.initialState()
        var reports: [StepReport] = []
        while !t.isFinished(state) { reports.append(try await t.step(&state)) }
        #expect(reports.count == 4)
        #expect(reports.dropLast().allSatisfy { $0.measurements == 0 && $0.testAccuracy == nil })
        #expect(reports.last!.measurements > 0 && reports.last!.testAccuracy != nil)
        #expect(state.deployed)
    }

    /// `trainingModels` (what `--model-profile` supplies) is what training goes through;
    /// the digital ceiling and the `model` accuracies stay on the ideal models.
    @Test func trainingGoesThroughTheTrainingModelsTheCeilingDoesNot() async throws {
        let p = plan(.pat, layers: [12, 10], epochs: 1)
        let (base, opened) = try await trainer(p, ideal: true)
        // Each unit "calibrated" with column gains 0.6…1.4 and a stuck device on its bias line
        // (the last row: driven by every sample, unlike a corner pixel that is always 0).
        let stuckDevice = opened.models.map { ($0.inputCount - 1) * 2 * $0.outputCount + 1 }
        let skewed: [any SubstrateModel] = try opened.models.enumerated().map { l, m in
            let devices = m.parameterCount, columns = 2 * m.outputCount
            return try CalibratedCrossbarModel(
                rows: m.inputCount, outputs: m.outputCount, gMin: [Double](repeating: 0.25, count: devices),
                gMax: [Double](repeating: 25, count: devices), stuck: (0..<devices).map { $0 == stuckDevice[l] },
                adcGain: (0..<columns).map { 0.6 + 0.8 * Double($0 % 5) / 4 }, adcOffset: [Double](repeating: 0, count: columns),
                fullScale: nil)
        }
        var runs: [DeepState] = []
        var initial: [[Double]] = []
        for models in [nil, skewed] {
            let (_, fresh) = try await trainer(p, ideal: true)
            let t = try DeepTrainer(
                units: fresh.units, models: fresh.models, widths: p.layers, method: p.method, config: p.trainer,
                task: fresh.task, seed: p.seed, trainingModels: models)
            #expect(t.digitalCeiling() == base.digitalCeiling())
            var state = try await t.initialState()
            _ = try await t.step(&state)
            runs.append(state)
            initial = t.initialTheta
        }
        for l in 0..<2 {
            // Stuck in the training models: no gradient, so its target never moves.
            let d = stuckDevice[l]
            #expect(runs[1].theta[l][d] == initial[l][d], "unit \(l + 1)'s stuck device moved")
            #expect(runs[0].theta[l][d] != initial[l][d], "unit \(l + 1)'s device \(d) should train on the ideal model")
            #expect(runs[0].theta[l] != runs[1].theta[l])
        }
        #expect(throws: TrainingError.self) {
            try DeepTrainer(
                units: opened.units, models: opened.models, widths: p.layers, method: p.method, config: p.trainer,
                task: opened.task, seed: p.seed, trainingModels: [skewed[0]])
        }
    }

    @Test(arguments: ["0", "-3", "32,0,10", "99999", "abc", "", "32,,10", "1.5", String(repeating: "4,", count: 20) + "10"])
    func badLayersAreRefusedInOneLine(_ text: String) {
        #expect(throws: RunError.self) { try DeepPlan.parseLayers(text) }
        do {
            _ = try DeepPlan.parseLayers(text)
        } catch {
            #expect(!error.description.contains("\n"))
            #expect(error.description.hasPrefix("--layers takes"))
        }
    }

    @Test func goodLayersParse() throws {
        #expect(try DeepPlan.parseLayers("32,10") == [32, 10])
        #expect(try DeepPlan.parseLayers(" 8 , 4,10") == [8, 4, 10])
    }

    /// A run paused after two committed epochs resumes on rebuilt twins and continues from
    /// its checkpoint: steps without gaps, committed steps unchanged, run completed.
    @Test func anInterruptedDeepRunResumes() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deep-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RunStore(path: path)
        var p = plan(.pat, epochs: 4)
        let (t1, opened) = try await trainer(p, ideal: false)
        p.units = opened.twins
        var session = try await DeepSession.start(plan: p, trainer: t1, store: store)
        let calls = Atomic<Int>(0)
        let paused = try await session.run(observer: nil) { calls.add(1, ordering: .relaxed).newValue > 2 }
        #expect(paused.stop == .paused)
        #expect(try store.run(id: session.runID).status == .paused)
        let before = try store.steps(runID: session.runID)
        #expect(before.count == 2)

        let stored = try #require(DeepPlan.from(json: try store.run(id: session.runID).configJSON))
        #expect(stored.units == p.units)
        let (t2, _) = try await trainer(stored, ideal: false)
        var resumed = try await DeepSession.resume(runID: session.runID, trainer: t2, store: store)
        #expect(resumed.state.epoch == 2)
        #expect(resumed.state.flatParameters == before.last!.parameters)
        let done = try await resumed.run(observer: nil) { false }
        #expect(done.stop == .completed)
        let after = try store.steps(runID: session.runID)
        #expect(after.map(\.step) == [1, 2, 3, 4])
        for (a, b) in zip(before, after) { #expect(a.parameters == b.parameters) }
        let result = try DeepRunResult.load(runID: session.runID, store: store)
        #expect(result.result.epochs == 4)
        #expect(result.result.digitalCeiling != nil)
        #expect(result.unitMeasurements.count == 2 && result.unitMeasurements.allSatisfy { $0 > 0 })
        // Four evaluations of (240 + 40) samples × 4 reads through two units.
        #expect(result.evaluationMeasurements == 4 * 280 * 4 * 2)
        #expect(result.result.measurements == result.evaluationMeasurements + 4 * 240 * 2)
    }
}

@Suite("PIB on a cascade")
struct DeepPIBTests {
    /// PIB trains the hidden unit on its information objective (I(Y;Z) rises), deploys it,
    /// then trains the output unit on the measured features; the cascade beats chance by far.
    @Test func pibRaisesIYZAndClassifies() async throws {
        var config = TrainerConfig()
        config.epochs = 4
        config.subset = 240
        let plan = DeepPlan(device: "sim:crossbar", task: .digits, method: .pib, seed: 2, layers: [12, 10], trainer: config)
        let opened = try await plan.open()
        let t = try DeepTrainer(
            units: opened.units, models: opened.models, widths: plan.layers, method: .pib, config: config,
            task: opened.task, seed: 2)
        var state = try await t.initialState()
        var iyz: [Double] = []
        var reports: [StepReport] = []
        while !t.isFinished(state) {
            reports.append(try await t.step(&state))
            if let v = state.iYZ { iyz.append(v) }
        }
        #expect(reports.count == 8)
        #expect(iyz.count == 4 && iyz.last! > iyz.first!, "I(Y;Z) per epoch: \(iyz)")
        #expect(reports[0].measurements == 0, "the first unit trains on its model alone")
        #expect(reports[4].measurements > 0, "the second unit's inputs are measured through the first")
        // Ten classes: chance is 10 %.
        #expect((state.lastTestAccuracy ?? 0) > 0.5, "test accuracy \(state.lastTestAccuracy ?? -1)")
    }

    /// `[trainer] renyi_alpha` selects the eigenvalue path; α = 1 (Shannon's limit, where the
    /// formula divides by zero) and α ≤ 0 are refused in one line.
    @Test func pibAtAlphaNearOneTrainsAndAlphaOneIsRefused() async throws {
        let decoded = try JSONDecoder().decode(TrainerConfig.self, from: Data(#"{"renyi_alpha": 1.01}"#.utf8))
        #expect(decoded.renyiAlpha == 1.01)
        var config = decoded
        config.epochs = 2
        config.subset = 240
        let plan = DeepPlan(device: "sim:crossbar", task: .digits, method: .pib, seed: 2, layers: [12, 10], trainer: config)
        let opened = try await plan.open()
        for bad in [1.0, 0.0, -2.0] {
            var c = config
            c.renyiAlpha = bad
            #expect(throws: TrainingError.self) {
                _ = try DeepTrainer(
                    units: opened.units, models: opened.models, widths: plan.layers, method: .pib, config: c,
                    task: opened.task, seed: 2)
            }
        }
        let t = try DeepTrainer(
            units: opened.units, models: opened.models, widths: plan.layers, method: .pib, config: config,
            task: opened.task, seed: 2)
        var state = try await t.initialState()
        var iyz: [Double] = []
        while !t.isFinished(state) {
            _ = try await t.step(&state)
            if let v = state.iYZ { iyz.append(v) }
        }
        #expect(iyz.count == 2 && iyz.allSatisfy { $0.isFinite && $0 > 0 }, "I(Y;Z) per epoch at α = 1.01: \(iyz)")
        #expect((state.lastTestAccuracy ?? 0) > 0.3, "test accuracy \(state.lastTestAccuracy ?? -1)")
    }
}
