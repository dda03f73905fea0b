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
    /// Per edge: the gate stayed clear of 0 and G_max through the drift window of at least
    /// one appendix-E task, so the drift estimate of B is determined (a gate resting on a
    /// limit does not drift).
    public var biasDriftDetermined: [Bool]
    /// The gate voltage every edge was set to before each trial and task, volts (the known
    /// state the procedure starts from; the board's own gates are put back afterwards);
    /// nil in version-1 profiles, which started from whatever the board held.
    public var referenceGate: Double?
    /// Why the result may be doubtful (empty: nothing found).
    public var warnings: [String]
    /// Trials and tasks used.
    public var trials: Int
    public var driftTasks: Int

    public init(
        learningRates: [Double], biasIntercept: [Double], biasDrift: [Double], fitResidual: Double, determined: [Bool],
        biasDriftDetermined: [Bool], referenceGate: Double?, warnings: [String], trials: Int, driftTasks: Int
    ) {
        self.learningRates = learningRates
        self.biasIntercept = biasIntercept
        self.biasDrift = biasDrift
        self.fitResidual = fitResidual
        self.determined = determined
        self.biasDriftDetermined = biasDriftDetermined
        self.referenceGate = referenceGate
        self.warnings = warnings
        self.trials = trials
        self.driftTasks = driftTasks
    }

    private enum CodingKeys: String, CodingKey {
        case learningRates, biasIntercept, biasDrift, fitResidual, determined, biasDriftDetermined, referenceGate
        case warnings, trials, driftTasks
    }

    /// Version-1 profiles have no drift mask, reference gate or warnings: every drift
    /// estimate counts as determined, the reference is unknown.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        learningRates = try c.decode([Double].self, forKey: .learningRates)
        biasIntercept = try c.decode([Double].self, forKey: .biasIntercept)
        biasDrift = try c.decode([Double].self, forKey: .biasDrift)
        fitResidual = try c.decode(Double.self, forKey: .fitResidual)
        determined = try c.decode([Bool].self, forKey: .determined)
        biasDriftDetermined =
            try c.decodeIfPresent([Bool].self, forKey: .biasDriftDetermined)
            ?? Array(repeating: true, count: biasDrift.count)
        referenceGate = try c.decodeIfPresent(Double.self, forKey: .referenceGate)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
        trials = try c.decode(Int.self, forKey: .trials)
        driftTasks = try c.decode(Int.self, forKey: .driftTasks)
    }
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
/// Every trial and task starts from a known state: all gates at ``referenceGate`` (default the
/// middle of the board's gate range), whatever a training run left behind; the board's own
/// gates are put back at the end.
///
/// Appendix E without the Hessian: each task clamps the output at the value it already has
/// (overclamping, η = 1), so the board starts on the task's solution line and only the bias
/// moves it. Once the output has stopped moving, the gates drift as dG/dt = B − a (uᵀB)/(uᵀa),
/// where a is the direction the learning signal moves the gates (measured: Â0 ⊙ ½(s(+h) −
/// s(−h)) for output nudges ±h, s = ΔV_F² − ΔV_C²) — so B lies on the line drift + λ a. Two or
/// more tasks pin B: least squares over (B, λ_j), leaving out the edges whose gate reached 0 or
/// G_max in a task (a gate on a limit does not drift). The drift window is short (0.1 s by
/// default): at |B| ≈ 5 V/s the gates would otherwise reach their limits before it ends.
///
/// Only checked entry points are used; every value stays inside the descriptor.
public struct CLLNCalibration: CalibrationProcedure {
    public let name = "clln-learning-rule"
    public let version = 2
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
            CalibrationFigure(
                key: "warnings", label: "warnings", value: Double(r.warnings.count),
                display: r.warnings.isEmpty ? "none" : r.warnings.joined(separator: "; ")),
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

    /// Appendix C trials, learning time per trial, appendix E tasks and their step budget:
    /// up to `maxSettleSteps` steps for the output to stop moving, `leadSteps` more, then the
    /// drift measured over `driftSteps` steps of `stepSeconds`.
    public var trials = 24
    public var trialSeconds = 1e-3
    public var driftTasks = 4
    public var stepSeconds = 1e-3
    public var maxSettleSteps = 400
    public var leadSteps = 30
    public var driftSteps = 100
    public var seed: UInt64 = 11
    /// Gate voltage every edge is set to before each trial and task, volts (nil: the middle
    /// of the board's gate range).
    public var referenceGate: Double?

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
        let boardGates = try await device.readParameters()
        let (gLow, gHigh) = (d.parameters.lower.max() ?? 0, d.parameters.upper.min() ?? 0)
        let g0 = min(max(referenceGate ?? (gLow + gHigh) / 2, gLow), gHigh)
        let reference = [Double](repeating: g0, count: n)
        var warnings: [String] = []
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
            _ = try await device.setParameters(reference)
            try await device.applyInputs(randomSources())
            let eta = k % 4 == 0 ? 0 : rng.uniform()
            let target = (2 * rng.uniform() - 1) * 0.4
            try await device.setClamp(ClampSetting(mode: .clamped, targets: [target], eta: eta))
            let s = try await signal()
            let before = try await device.readParameters()
            try await learner.learn(seconds: trialSeconds)
            let after = try await device.readParameters()
            rows.append(s)
            rates.append(zip(after, before).map { ($0 - $1) / trialSeconds })
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
        // Appendix E: drift along the solution line of single-point tasks clamped where they stand.
        var drifts: [[Double]] = []
        var directions: [[Double]] = []
        var clear: [[Bool]] = []
        var unsettled = 0
        let margin = 0.01 * (gHigh - gLow)
        for j in 0..<driftTasks {
            _ = try await device.setParameters(reference)
            let sources = randomSources()
            try await device.applyInputs(sources)
            let x = Matrix(rows: 1, cols: sources.count, storage: sources)
            let label = try await device.measure(x)[0, 0]
            func step() async throws {
                try await device.applyInputs(sources)
                try await device.setClamp(ClampSetting(mode: .clamped, targets: [label], eta: 1))
                try await learner.learn(seconds: stepSeconds)
            }
            // Settled: the output moved less than 2 mV/s over the last 10 steps.
            var last = label
            var settled = false
            for k in 1...max(10, maxSettleSteps) {
                try await step()
                if k % 10 == 0 {
                    let now = try await device.measure(x)[0, 0]
                    if abs(now - last) < 2e-3 * 10 * stepSeconds {
                        settled = true
                        break
                    }
                    last = now
                }
            }
            if !settled { unsettled += 1 }
            for _ in 0..<leadSteps { try await step() }
            let ga = try await device.readParameters()
            for _ in 0..<driftSteps { try await step() }
            let gb = try await device.readParameters()
            drifts.append(zip(gb, ga).map { ($0 - $1) / (Double(driftSteps) * stepSeconds) })
            clear.append(zip(ga, gb).map { min($0, $1) > gLow + margin && max($0, $1) < gHigh - margin })
            let o = try await device.measure(x)[0, 0]
            let h = 0.01
            try await device.setClamp(ClampSetting(mode: .clamped, targets: [o + h], eta: 1))
            let up = try await signal()
            try await device.setClamp(ClampSetting(mode: .clamped, targets: [o - h], eta: 1))
            let down = try await signal()
            directions.append((0..<n).map { a0[$0] * (up[$0] - down[$0]) / 2 })
            progress(trials + j + 1, total, "drift task \(j + 1)/\(driftTasks)")
        }
        // Unknowns (B, λ_1…λ_J): B − λ_j a_j = drift_j, on the edges clear of the limits.
        let tasks = drifts.count
        var m = Matrix(rows: n * tasks, cols: n + tasks)
        var rhs = [Double](repeating: 0, count: n * tasks)
        for j in 0..<tasks {
            for e in 0..<n where clear[j][e] {
                m[j * n + e, e] = 1
                m[j * n + e, n + j] = -directions[j][e]
                rhs[j * n + e] = drifts[j][e]
            }
        }
        let bE = tasks == 0 ? [Double](repeating: 0, count: n) : Array(try m.leastSquares(Matrix(column: rhs)).storage.prefix(n))
        let driftDetermined = (0..<n).map { e in tasks >= 2 && clear.contains { $0[e] } }
        _ = try await device.setParameters(boardGates)
        try await device.setClamp(.free(outputs: d.outputs.count))
        let determined = (0..<n).map { e in rows.map { abs($0[e]) }.max() ?? 0 >= 1e-4 }
        let blindA0 = determined.filter { !$0 }.count
        if blindA0 > 0 {
            warnings.append(
                "A0 is not determined on \(blindA0) of \(n) edges: their learning signal stayed below 1e-4 V² in every "
                    + "trial (the clamp does not reach them under this wiring)")
        }
        let blindB = driftDetermined.filter { !$0 }.count
        if blindB > 0 {
            warnings.append(
                "the drift estimate of B is not determined on \(blindB) of \(n) edges: their gates reached 0 or G_max "
                    + "in every drift task (fewer than 2 tasks, or |B| too large for the window)")
        }
        if unsettled > 0 {
            warnings.append(
                "the output was still moving after \(maxSettleSteps) steps in \(unsettled) of \(tasks) drift tasks: "
                    + "their drift includes relaxation, not only the bias")
        }
        return CLLNCalibrationResult(
            learningRates: a0, biasIntercept: bC, biasDrift: bE, fitResidual: residual, determined: determined,
            biasDriftDetermined: driftDetermined, referenceGate: g0, warnings: warnings, trials: trials, driftTasks: tasks)
    }
}
