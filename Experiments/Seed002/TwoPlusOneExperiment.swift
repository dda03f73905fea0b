import Foundation
import PNNCore
import PNNRuns
import PNNSim
import PNNTraining

/// Settings of the seed-002 Fig. 2 experiment: the 2+1-edge network alternating the two
/// single-point tasks of Fig. 2B under a bias, simulated and predicted by the linear theory
/// of appendix D.
public struct TwoPlusOneConfig: Sendable, Codable, Equatable {
    /// Periods τ compared with the theory, seconds.
    public var taus: [Double] = [2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3, 200e-3, 400e-3, 800e-3]
    /// τ at or below which sim and theory must agree within `tolerance`.
    public var smallTau: Double = 20e-3
    public var tolerance: Double = 0.2
    /// τ whose last period is traced in G-space (seed Fig. 2F: 20 ms and 800 ms).
    public var cycleTaus: [Double] = [20e-3, 800e-3]
    /// Bias on the two trainable edges, V/s (seed App. E measured (−1.79, 0.68) V/s for Fig. 2).
    public var bias: [Double] = [-1.79, 0.68]
    /// Learning rate A0 = γ S on both trainable edges, 1/(V·s) (seed: γ ≈ 2.4e6 Ω/s, S = 8e-4).
    public var learningRate: Double = 2.4e6 * 8e-4
    public var eta: Double = 1
    public var stepSeconds: Double = 100e-6
    /// Each τ learns for at least this long and at least `minPeriods` periods.
    public var minLearnSeconds: Double = 4
    public var minPeriods: Int = 10
    public var window: Int = 3
    public var task: ContrastiveTaskName = .fig2b

    public init() {}

    public static func standard(quick: Bool) -> TwoPlusOneConfig {
        var c = TwoPlusOneConfig()
        if quick {
            c.taus = [2e-3, 10e-3, 100e-3]
            c.cycleTaus = [10e-3, 100e-3]
            c.minLearnSeconds = 2
        }
        return c
    }

    public func periods(tau: Double) -> Int { max(minPeriods, Int((minLearnSeconds / tau).rounded(.up))) }
}

/// Simulated and predicted steady cycle for one τ.
public struct TwoPlusOnePoint: Sendable, Codable, Equatable {
    public var tau: Double
    public var spanSim: Double
    public var spanTheory: Double
    public var combinedErrorSim: Double
    public var combinedErrorTheory: Double
    /// |D_sim − D_theory| / D_theory.
    public var relativeError: Double { abs(spanSim - spanTheory) / max(spanTheory, 1e-300) }
}

/// The gate voltages (G1, G2) along the last period of a run.
public struct GateCycle: Sendable, Codable, Equatable {
    public var tau: Double
    public var g1: [Double]
    public var g2: [Double]
    /// Predicted corners Ḡ0 (start of α) and G(τ/2) from the theory.
    public var theoryStart: [Double]
    public var theoryHalf: [Double]
}

/// Everything the 2+1 experiment measured.
public struct TwoPlusOneResult: Sendable, Codable, Equatable {
    public var config: TwoPlusOneConfig
    public var points: [TwoPlusOnePoint]
    public var cycles: [GateCycle]
    public var wallSeconds: Double

    /// Largest relative sim-vs-theory error of D for τ ≤ smallTau.
    public var worstSmallTauError: Double {
        points.filter { $0.tau <= config.smallTau * (1 + 1e-9) }.map(\.relativeError).max() ?? .nan
    }
}

/// The seed-002 Fig. 2 experiment on the 2+1-edge twin (see `TwoPlusOneConfig`).
public enum TwoPlusOneExperiment {
    /// The twin's state: seeded physics with the configured bias and learning rate on the
    /// trainable edges (fixed edge: neither).
    public static func state(_ config: TwoPlusOneConfig) throws -> CLLNState {
        var physics = CLLNPhysics()
        physics.learningRateSpread = 0
        var state = CLLNState(topology: .twoPlusOne, physics: physics, seed: 1)
        let trainable = state.topology.trainableEdges
        guard trainable.count == config.bias.count else {
            throw ExperimentError.badParameter(
                "the 2+1 network has \(trainable.count) trainable edges, bias has \(config.bias.count)")
        }
        for (k, e) in trainable.enumerated() {
            state.biases[e] = config.bias[k]
            state.learningRates[e] = config.learningRate
        }
        return state
    }

    static func dataset(_ config: TwoPlusOneConfig) throws -> ContrastiveDataset {
        do {
            return try ContrastiveTasks.dataset(
                ContrastiveTaskSpec(name: config.task, radiusMillivolts: nil, rotation: nil), topology: .twoPlusOne)
        } catch { throw ExperimentError.task(error.description) }
    }

    /// Simulate τ and return the steady cycle's summary and, if `trace`, the last period's path.
    static func simulate(tau: Double, state: CLLNState, dataset: ContrastiveDataset, config: TwoPlusOneConfig, trace: Bool)
        async throws -> (summary: CycleSummary, path: [[Double]])
    {
        let twin: CLLNTwin
        do { twin = try CLLNTwin(state: state, serial: "sim-2plus1") } catch { throw ExperimentError.device(error.description) }
        let periods = config.periods(tau: tau)
        let stepsPerPeriod = max(1, Int((tau / config.stepSeconds).rounded()))
        let schedule = ContrastiveSchedule(
            method: .coupled, eta: config.eta, stepSeconds: config.stepSeconds, periodSeconds: tau, periods: periods,
            recordEvery: periods + 1, recordTail: config.window, traceEvery: trace ? max(1, stepsPerPeriod / 200) : 0)
        let records = await twin.collectRecords(schedule, dataset: dataset)
        let summary = try CycleSummary.of(records, window: config.window, tau: tau)
        var path = records.filter { $0.kind == .trace }.map(\.gates)
        if let end = records.last(where: { $0.kind == .slotEnd }) { path.append(end.gates) }
        return (summary, path)
    }

    /// Simulate every τ, predict it with `LinearCycleTheory`, and trace the cycles.
    public static func run(_ config: TwoPlusOneConfig) async throws -> TwoPlusOneResult {
        let watch = Stopwatch()
        let state = try state(config)
        let data = try dataset(config)
        let alpha = data.tasks[0].points[0]
        let beta = data.tasks[1].points[0]
        let theory = try LinearCycleTheory(state: state, alpha: alpha, beta: beta, eta: config.eta)
        var points: [TwoPlusOnePoint] = []
        var cycles: [GateCycle] = []
        for tau in Set(config.taus + config.cycleTaus).sorted() {
            let traced = config.cycleTaus.contains(tau)
            let sim = try await simulate(tau: tau, state: state, dataset: data, config: config, trace: traced)
            let p = try theory.prediction(tau: tau)
            if config.taus.contains(tau) {
                points.append(
                    TwoPlusOnePoint(
                        tau: tau, spanSim: sim.summary.span, spanTheory: p.span, combinedErrorSim: sim.summary.combinedError,
                        combinedErrorTheory: p.combinedError))
            }
            if traced {
                cycles.append(
                    GateCycle(
                        tau: tau, g1: sim.path.map { $0[0] }, g2: sim.path.map { $0[1] }, theoryStart: p.g0,
                        theoryHalf: p.gHalf))
            }
        }
        return TwoPlusOneResult(config: config, points: points, cycles: cycles, wallSeconds: watch.seconds)
    }
}
