import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// What the CLLN procedure measured, per trainable edge (parameter order).
public struct CLLNCalibrationResult: Sendable, Codable, Equatable {
    /// Learning rate A0, 1/(V·s) (seed appendix C: imposed voltages, measured ΔG).
    public var learningRates: [Double]
    /// Bias B from the same regression's intercept, V/s.
    public var biasIntercept: [Double]
    /// Bias B from drift along solution lines (seed appendix E), V/s.
    public var biasDrift: [Double]
    /// RMS residual of the appendix-C fit, V/s.
    public var fitResidual: Double
    /// Per edge: the learning signal ΔV_F² − ΔV_C² reached at least 1e-4 V² in some trial,
    /// so A0 is determined (edges far from the outputs barely see the clamp).
    public var determined: [Bool]
    /// Trials and tasks used.
    public var trials: Int
    public var driftTasks: Int
}

/// Errors of a calibration against a known truth (a twin's or an emulator's hidden state).
public struct CLLNCalibrationComparison: Sendable, Codable, Equatable {
    /// RMS relative error of A0.
    public var learningRateRelativeRMS: Double
    /// RMS error of B, V/s: intercept estimate and drift estimate.
    public var biasInterceptRMS: Double
    public var biasDriftRMS: Double
    /// RMS of the true B, V/s (the scale the errors compare with).
    public var biasScaleRMS: Double

    /// Edges whose A0 was determined (the A0 error is over these).
    public var determinedEdges: Int

    public init(result: CLLNCalibrationResult, trueLearningRates: [Double], trueBiases: [Double]) {
        func rms(_ x: [Double]) -> Double { sqrt(x.map { $0 * $0 }.reduce(0, +) / Double(max(x.count, 1))) }
        let used = result.learningRates.indices.filter { result.determined[$0] }
        determinedEdges = used.count
        learningRateRelativeRMS = rms(used.map { (result.learningRates[$0] - trueLearningRates[$0]) / trueLearningRates[$0] })
        biasInterceptRMS = rms(zip(result.biasIntercept, trueBiases).map { $0 - $1 })
        biasDriftRMS = rms(zip(result.biasDrift, trueBiases).map { $0 - $1 })
        biasScaleRMS = rms(trueBiases)
    }
}

/// The CLLN board's learning rule, per edge: A0 by imposing voltages and measuring ΔG
/// (seed appendix C), and the bias B twice — as the intercept of that regression, and from
/// the drift of the gates along the solution lines of single-point tasks (appendix E).
///
/// Appendix E without the Hessian: while a single-point task is held at its solution the
/// gates drift as dG/dt = B − a (uᵀB)/(uᵀa), where a is the direction the learning signal
/// moves the gates (measured: Â0 ⊙ (ΔV_F² − ΔV_C²) for a small nudge) — so B lies on the line
/// drift + λ a. Two or more tasks pin B: least squares over (B, λ_j).
///
/// Only checked entry points are used; every value stays inside the descriptor.
public struct CLLNCalibration: CalibrationProcedure {
    public let name = "clln-learning-rule"
    public let version = 1
    public let summary = "learning rate A0 and bias B per edge (seed 002 appendices C and E)"
    public var options: [FamilyOption] {
        [FamilyOption("trials", .integer(4...10_000), help: "Appendix-C trials (imposed voltages, measured ΔG); default 24.")]
    }

    public func configured(_ values: FamilyOptionValues) throws -> CLLNCalibration {
        var out = self
        if let n = values.integer("trials") { out.trials = n }
        return out
    }

    public func headline(_ profile: CalibrationProfile) throws -> [CalibrationFigure] {
        let r = try profile.payload(CLLNCalibrationResult.self, for: profile.identity)
        let determined = r.determined.filter { $0 }.count
        let meanA0 =
            zip(r.learningRates, r.determined).filter(\.1).map(\.0).reduce(0, +) / Double(max(determined, 1))
        return [
            CalibrationFigure(
                key: "a0_determined_edges", label: "A0 determined", value: Double(determined),
                display: "\(determined) of \(r.learningRates.count) edges"),
            CalibrationFigure(
                key: "mean_a0_per_v_s", label: "mean A0", value: meanA0,
                display: String(format: "%.3g /(V·ms)", meanA0 / 1000)),
            CalibrationFigure(
                key: "fit_residual_v_per_s", label: "fit residual", value: r.fitResidual,
                display: String(format: "%.3g V/s", r.fitResidual)),
        ]
    }

    public func compare(_ profile: CalibrationProfile, truth: Data) throws -> [CalibrationFigure] {
        let state = try CLLNState.importJSON(truth)
        let r = try profile.payload(CLLNCalibrationResult.self, for: profile.identity)
        let t = state.topology.trainableEdges
        let c = CLLNCalibrationComparison(
            result: r, trueLearningRates: t.map { state.learningRates[$0] }, trueBiases: t.map { state.biases[$0] })
        return [
            CalibrationFigure(
                key: "a0_relative_rms", label: "A0 error (RMS, rel.)", value: c.learningRateRelativeRMS,
                display: String(format: "%.2f %% over %d edges", c.learningRateRelativeRMS * 100, c.determinedEdges)),
            CalibrationFigure(
                key: "b_intercept_rms_v_per_s", label: "B error, appendix C", value: c.biasInterceptRMS,
                display: String(format: "%.3g V/s RMS (true B: %.3g V/s RMS)", c.biasInterceptRMS, c.biasScaleRMS)),
            CalibrationFigure(
                key: "b_drift_rms_v_per_s", label: "B error, appendix E", value: c.biasDriftRMS,
                display: String(format: "%.3g V/s RMS", c.biasDriftRMS)),
            CalibrationFigure(
                key: "b_true_rms_v_per_s", label: "true B", value: c.biasScaleRMS,
                display: String(format: "%.3g V/s RMS", c.biasScaleRMS)),
        ]
    }

    /// Appendix C trials, learning time per trial, appendix E tasks and their step budget.
    public var trials = 24
    public var trialSeconds = 1e-3
    public var driftTasks = 3
    public var stepSeconds = 1e-3
    public var maxSettleSteps = 3000
    public var driftSteps = 300
    public var seed: UInt64 = 11

    public init() {}

    public func run(on substrate: any Substrate, progress: @escaping @Sendable (Int, Int, String) -> Void) async throws
        -> CalibrationProfile
    {
        let purpose = "calibrating the learning rule"
        let device = try substrate.require(.clampable, as: (any Clampable).self, for: purpose)
        let nodes = try substrate.require(.nodeReadout, as: (any NodeReadout).self, for: purpose)
        let learner = try substrate.require(.selfLearning, as: (any SelfLearning).self, for: purpose)
        let result = try await measure(device, nodes, learner, progress: progress)
        let payload = try JSONValue(encoding: result, snakeCase: true)
        let a0 = result.learningRates.reduce(0, +) / Double(max(result.learningRates.count, 1))
        return CalibrationProfile(
            identity: substrate.descriptor.identity, procedure: name, procedureVersion: version,
            summary: ["mean_A0_per_V_s": a0, "fit_residual_V_s": result.fitResidual], payload: payload)
    }

    func measure(
        _ device: any Clampable, _ nodes: any NodeReadout, _ learner: any SelfLearning,
        progress: @Sendable (Int, Int, String) -> Void
    ) async throws -> CLLNCalibrationResult {
        let topo = nodes.topology
        let trainable = topo.trainableEdges
        let n = trainable.count
        let d = device.descriptor
        var rng = SeededRandom(seed: seed)
        let total = trials + driftTasks
        let start = try await device.readParameters()
        let rails = (vPlus: 0.435, vMinus: 0.018)
        func randomSources() -> [Double] {
            topo.sourceVoltages(
                for: (0..<max(1, topo.dataDimension)).map { _ in rails.vMinus + (rails.vPlus - rails.vMinus) * rng.uniform() },
                vPlus: rails.vPlus, vMinus: rails.vMinus)
        }
        func signal() async throws -> [Double] {
            let f = topo.edgeDrops(try await nodes.readNodes(.free))
            let c = topo.edgeDrops(try await nodes.readNodes(.clamped))
            return trainable.map { f[$0] * f[$0] - c[$0] * c[$0] }
        }
        // Appendix C: ΔG/t_h = A0 s + B per edge over varied boundary conditions.
        var rows: [[Double]] = []
        var rates: [[Double]] = []
        for k in 0..<trials {
            _ = try await device.setParameters(start)
            try await device.applyInputs(randomSources())
            let eta = k % 4 == 0 ? 0 : rng.uniform()
            let target = (2 * rng.uniform() - 1) * 0.4
            try await device.setClamp(ClampSetting(mode: .clamped, targets: [target], eta: eta))
            let s = try await signal()
            let g0 = try await device.readParameters()
            try await learner.learn(seconds: trialSeconds)
            let g1 = try await device.readParameters()
            rows.append(s)
            rates.append(zip(g1, g0).map { ($0 - $1) / trialSeconds })
            progress(k + 1, total, "learning-rate trial \(k + 1)/\(trials)")
        }
        var a0 = [Double](repeating: 0, count: n)
        var bC = [Double](repeating: 0, count: n)
        var residual = 0.0
        for e in 0..<n {
            let x = Matrix(rows.map { [$0[e], 1] })
            let y = Matrix(column: rates.map { $0[e] })
            let fit = try x.leastSquares(y).storage
            a0[e] = fit[0]
            bC[e] = fit[1]
            for k in 0..<rows.count { residual += pow(rates[k][e] - fit[0] * rows[k][e] - fit[1], 2) }
        }
        residual = sqrt(residual / Double(max(1, n * rows.count)))
        // Appendix E: drift along the solution line of single-point tasks.
        var drifts: [[Double]] = []
        var directions: [[Double]] = []
        for j in 0..<driftTasks {
            _ = try await device.setParameters(start)
            let sources = randomSources()
            try await device.applyInputs(sources)
            let x = Matrix(rows: 1, cols: sources.count, storage: sources)
            let label = try await device.measure(x)[0, 0] + (j % 2 == 0 ? 0.015 : -0.015)
            func step() async throws {
                try await device.applyInputs(sources)
                try await device.setClamp(ClampSetting(mode: .clamped, targets: [label], eta: 1))
                try await learner.learn(seconds: stepSeconds)
            }
            var settled = 0
            while settled < maxSettleSteps {
                try await step()
                settled += 1
                if settled % 50 == 0, abs(try await device.measure(x)[0, 0] - label) < 2e-4 { break }
            }
            for _ in 0..<(driftSteps / 3) { try await step() }
            let ga = try await device.readParameters()
            for _ in 0..<driftSteps { try await step() }
            let gb = try await device.readParameters()
            drifts.append(zip(gb, ga).map { ($0 - $1) / (Double(driftSteps) * stepSeconds) })
            try await device.setClamp(ClampSetting(mode: .clamped, targets: [label + 0.02], eta: 1))
            directions.append(zip(a0, try await signal()).map { $0 * $1 })
            progress(trials + j + 1, total, "drift task \(j + 1)/\(driftTasks)")
        }
        // Unknowns (B, λ_1…λ_J): B − λ_j a_j = drift_j.
        let tasks = drifts.count
        var m = Matrix(rows: n * tasks, cols: n + tasks)
        var rhs = [Double](repeating: 0, count: n * tasks)
        for j in 0..<tasks {
            for e in 0..<n {
                m[j * n + e, e] = 1
                m[j * n + e, n + j] = -directions[j][e]
                rhs[j * n + e] = drifts[j][e]
            }
        }
        let bE = Array(try m.leastSquares(Matrix(column: rhs)).storage.prefix(n))
        _ = try await device.setParameters(start)
        try await device.setClamp(.free(outputs: d.outputs.count))
        let determined = (0..<n).map { e in rows.map { abs($0[e]) }.max() ?? 0 >= 1e-4 }
        return CLLNCalibrationResult(
            learningRates: a0, biasIntercept: bC, biasDrift: bE, fitResidual: residual, determined: determined,
            trials: trials, driftTasks: tasks)
    }
}
