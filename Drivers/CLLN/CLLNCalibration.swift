import Foundation
import PNNCalibration
import PNNCore
import PNNSim

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
    public let version = 3
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
        var fidelity: [CalibrationFigure] = []
        if let f = r.twinFidelity, let forward = r.twinFidelityForward, let nominal = r.twinFidelityNominal {
            fidelity = [
                CalibrationFigure(
                    key: "twin_fidelity", label: "twin fidelity", value: f,
                    display: String(
                        format: "%.2f (1.0 = as good as the noise allows; forward reads %.2f; nominal twin %.3g; "
                            + "RMS error %.3g V over σ %.3g V)", f, forward, nominal, r.twinErrorRMS ?? 0,
                        max(r.outputNoise ?? 0, Self.noiseFloor))),
                CalibrationFigure(
                    key: "twin_fidelity_nominal", label: "twin fidelity, nominal twin", value: nominal,
                    display: String(format: "%.3g (mean A0 2 /(V·ms), no bias)", nominal)),
                CalibrationFigure(
                    key: "output_noise_v", label: "output read noise", value: r.outputNoise ?? 0,
                    display: String(format: "%.3g V per read", r.outputNoise ?? 0)),
            ]
        }
        return fidelity + [
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
        ]
            + (c.biasTwinRMS.map {
                [
                    CalibrationFigure(
                        key: "b_twin_rms_v_per_s", label: "B error, twin's B", value: $0,
                        display: String(format: "%.3g V/s RMS (inverse-variance mean of C and E)", $0))
                ]
            } ?? []) + [
                CalibrationFigure(
                    key: "b_true_rms_v_per_s", label: "true B", value: c.biasScaleRMS,
                    display: String(format: "%.3g V/s RMS", c.biasScaleRMS))
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
    /// Twin fidelity: held-out trials (random gates, sources and clamp, none used by the
    /// fits), reads of the outputs per trial before and after its learning step, and that
    /// step's length, seconds.
    public var fidelityTrials = 12
    public var fidelityRepeats = 4
    public var fidelitySeconds = 1e-3
    /// The read noise the fidelity divides by is at least this, volts: a noise-free board
    /// (the emulator's default; reads travel as 64-bit floats) holds the twin to 1 µV.
    public static let noiseFloor = 1e-6

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
        var summary = ["mean_A0_per_V_s": a0, "fit_residual_V_s": result.fitResidual]
        summary["twin_fidelity"] = result.twinFidelity
        return CalibrationProfile(
            identity: substrate.descriptor.identity, procedure: name, procedureVersion: version, summary: summary,
            payload: payload)
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
            // The signal moves as the gates do: ΔG integrates it over the trial, so the
            // regressor is its mean over the trial (trapezoid: start and end).
            let s1 = try await signal()
            rows.append(zip(s, s1).map { ($0 + $1) / 2 })
            rates.append(zip(after, before).map { ($0 - $1) / trialSeconds })
            progress(k + 1, total, "learning-rate trial \(k + 1)/\(trials)")
        }
        var a0 = [Double](repeating: 0, count: n)
        var bC = [Double](repeating: 0, count: n)
        var residual = 0.0
        // Variance of each intercept: σ_e² (XᵀX)⁻¹₂₂ = σ_e² Σs² / (m Σs² − (Σs)²).
        var varianceC = [Double](repeating: .infinity, count: n)
        let m = Double(rows.count)
        for e in 0..<n {
            let x = Matrix(rows.map { [$0[e], 1] })
            let y = Matrix(column: rates.map { $0[e] })
            let fit = try x.leastSquares(y).storage
            a0[e] = fit[0]
            bC[e] = fit[1]
            var ssr = 0.0
            for k in 0..<rows.count { ssr += pow(rates[k][e] - fit[0] * rows[k][e] - fit[1], 2) }
            residual += ssr
            let (s1, s2) = (rows.map { $0[e] }.reduce(0, +), rows.map { $0[e] * $0[e] }.reduce(0, +))
            let det = m * s2 - s1 * s1
            if m > 2, det > 0 { varianceC[e] = ssr / (m - 2) * s2 / det }
        }
        residual = sqrt(residual / Double(max(1, n * rows.count)))
        let determined = (0..<n).map { e in rows.map { abs($0[e]) }.max() ?? 0 >= 1e-4 }
        // Appendix E: drift along the solution line of single-point tasks clamped where they stand.
        var drifts: [[Double]] = []
        var directions: [[Double]] = []
        var clear: [[Bool]] = []
        var unsettled = 0
        var settleStepsUsed = 0
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
                settleStepsUsed += 1
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
        var system = Matrix(rows: n * tasks, cols: n + tasks)
        var rhs = [Double](repeating: 0, count: n * tasks)
        for j in 0..<tasks {
            for e in 0..<n where clear[j][e] {
                system[j * n + e, e] = 1
                system[j * n + e, n + j] = -directions[j][e]
                rhs[j * n + e] = drifts[j][e]
            }
        }
        let solution =
            tasks == 0 ? [Double](repeating: 0, count: n + tasks) : try system.leastSquares(Matrix(column: rhs)).storage
        let bE = Array(solution.prefix(n))
        let driftDetermined = (0..<n).map { e in tasks >= 2 && clear.contains { $0[e] } }
        // Variance of each drift estimate: the system's residual variance over the tasks
        // that saw the edge clear of the limits (the λ_j coupling left out).
        var ssrE = 0.0, equations = 0
        for j in 0..<tasks {
            for e in 0..<n where clear[j][e] {
                ssrE += pow(drifts[j][e] - bE[e] + solution[n + j] * directions[j][e], 2)
                equations += 1
            }
        }
        let sigmaE2 = equations > n + tasks ? ssrE / Double(equations - n - tasks) : Double.infinity
        let varianceE = (0..<n).map { e in
            let seen = (0..<tasks).filter { clear[$0][e] }.count
            return seen > 0 && driftDetermined[e] ? sigmaE2 / Double(seen) : Double.infinity
        }
        // The twin's B: the inverse-variance mean of the two estimates (the intercept wins on a
        // noise-free board, the drift where read noise spoils the regression).
        let bTwin = (0..<n).map { e -> Double in
            let (vc, ve) = (determined[e] ? varianceC[e] : .infinity, varianceE[e])
            if vc.isInfinite && ve.isInfinite { return driftDetermined[e] ? bE[e] : bC[e] }
            if vc == 0 || ve.isInfinite { return bC[e] }
            if ve == 0 || vc.isInfinite { return bE[e] }
            return (bC[e] / vc + bE[e] / ve) / (1 / vc + 1 / ve)
        }
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
        var result = CLLNCalibrationResult(
            learningRates: a0, biasIntercept: bC, biasDrift: bE, fitResidual: residual, determined: determined,
            biasDriftDetermined: driftDetermined, referenceGate: g0, warnings: warnings, trials: trials, driftTasks: tasks)
        result.topology = topo
        result.biasTwin = bTwin
        result.gateMax = gHigh
        result.gates = boardGates
        // Twin fidelity on held-out trials, then the board's own gates back.
        progress(total, total, "twin fidelity: \(fidelityTrials) held-out trials")
        try await measureFidelity(into: &result, device, learner, sources: randomSources, range: (gLow, gHigh))
        _ = try await device.setParameters(boardGates)
        try await device.setClamp(.free(outputs: d.outputs.count))
        let settle = Double(settleStepsUsed + tasks * (leadSteps + driftSteps)) * stepSeconds
        result.learningSeconds =
            Double(trials) * trialSeconds + settle + Double(fidelityTrials) * fidelitySeconds
        return result
    }

    /// One held-out trial: the gates and sources it is run with, and the nudge of its clamp
    /// (targets = the measured free outputs + `nudge`, η = 1, as a training step clamps).
    struct HeldOutTrial {
        var gates: [Double]
        var sources: [Double]
        var nudge: [Double]
        /// The clamp the board was given (set by the board's run, replayed on the twins).
        var clamp: ClampSetting?
    }

    /// Runs the held-out trials on the board and on twins built from `result` (calibrated,
    /// and nominal), and stores the fidelity figures in `result`.
    func measureFidelity(
        into result: inout CLLNCalibrationResult, _ device: any Clampable, _ learner: any SelfLearning,
        sources: () -> [Double], range: (Double, Double)
    ) async throws {
        var rng = SeededRandom.derived(seed: seed, stream: 0xF1DE)
        let g0 = result.referenceGate ?? (range.0 + range.1) / 2
        let (lo, hi) = (max(range.0, g0 - 1.5), min(range.1, g0 + 1.5))
        var held = (0..<fidelityTrials).map { _ in
            HeldOutTrial(
                gates: result.learningRates.map { _ in lo + (hi - lo) * rng.uniform() }, sources: sources(),
                nudge: (0..<device.descriptor.outputs.count).map { _ in (2 * rng.uniform() - 1) * 0.02 })
        }
        let repeats = max(2, fidelityRepeats)
        let measured = try await Self.runHeldOut(&held, on: device, learner, repeats: repeats, seconds: fidelitySeconds)
        let twin = try CLLNTwin(state: try result.twinState(), serial: "fidelity")
        let predicted = try await Self.runHeldOut(&held, on: twin, twin, repeats: 1, seconds: fidelitySeconds)
        let nominalTwin = try CLLNTwin(state: try result.twinState(nominal: true), serial: "fidelity-nominal")
        let nominal = try await Self.runHeldOut(&held, on: nominalTwin, nominalTwin, repeats: 1, seconds: fidelitySeconds)
        var within: Double = 0, cells: Double = 0
        var error = [0.0, 0.0], errorNominal = [0.0, 0.0], reads = [0.0, 0.0]
        for t in measured.indices {
            for stage in 0..<2 {
                for o in measured[t][stage][0].indices {
                    let values = measured[t][stage].map { $0[o] }
                    let mean = values.reduce(0, +) / Double(values.count)
                    cells += 1
                    for v in values {
                        within += (v - mean) * (v - mean)
                        error[stage] += pow(v - predicted[t][stage][0][o], 2)
                        errorNominal[stage] += pow(v - nominal[t][stage][0][o], 2)
                        reads[stage] += 1
                    }
                }
            }
        }
        let sigma = sqrt(within / max(cells * Double(repeats - 1), 1))
        let noise = max(sigma, Self.noiseFloor)
        let all = reads.reduce(0, +)
        result.outputNoise = sigma
        result.twinErrorRMS = sqrt(error.reduce(0, +) / all)
        result.twinErrorRMSNominal = sqrt(errorNominal.reduce(0, +) / all)
        result.twinFidelity = result.twinErrorRMS! / noise
        result.twinFidelityForward = sqrt(error[0] / reads[0]) / noise
        result.twinFidelityNominal = result.twinErrorRMSNominal! / noise
        result.fidelityTrials = held.count
        result.fidelityRepeats = repeats
    }

    /// The outputs of each held-out trial, [trial][stage][read][output]: `repeats` reads at the
    /// trial's gates and sources (stage 0), then `repeats` reads after learning `seconds` under
    /// its clamp (stage 1); the clamp is released afterwards. A trial without a clamp yet gets
    /// targets at the mean of its stage-0 reads plus its nudge, kept for the next device.
    static func runHeldOut(
        _ trials: inout [HeldOutTrial], on device: any Clampable, _ learner: any SelfLearning, repeats: Int,
        seconds: Double
    ) async throws -> [[[[Double]]]] {
        var out: [[[[Double]]]] = []
        let outputs = device.descriptor.outputs.count
        for k in trials.indices {
            let trial = trials[k]
            _ = try await device.setParameters(trial.gates)
            let x = Matrix(
                rows: repeats, cols: trial.sources.count, storage: (0..<repeats).flatMap { _ in trial.sources })
            func reads() async throws -> [[Double]] {
                let m = try await device.measure(x)
                return (0..<repeats).map { r in (0..<outputs).map { m[r, $0] } }
            }
            let before = try await reads()
            let clamp =
                trial.clamp
                ?? ClampSetting(
                    mode: .clamped,
                    targets: (0..<outputs).map { o in
                        min(max(before.map { $0[o] }.reduce(0, +) / Double(repeats) + trial.nudge[o], -1), 1)
                    }, eta: 1)
            trials[k].clamp = clamp
            try await device.applyInputs(trial.sources)
            try await device.setClamp(clamp)
            try await learner.learn(seconds: seconds)
            try await device.setClamp(.free(outputs: outputs))
            out.append([before, try await reads()])
        }
        return out
    }
}
