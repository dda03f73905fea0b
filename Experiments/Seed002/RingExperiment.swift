import Foundation
import PNNCore
import PNNRuns
import PNNSim
import PNNTraining

/// Settings of the seed-002 Fig. 5 experiment: the 8-point ring classification for every
/// linear split (rotation) and ring size ε, trained by overclamping and by standard clamping.
public struct RingConfig: Sendable, Codable, Equatable {
    /// Ring sizes ε, millivolts (seed: 83, 167, 250, 333, 417).
    public var radiiMillivolts: [Double] = [83, 167, 250, 333, 417]
    /// Rotations (label splits) averaged, 0…7.
    public var rotations: [Int] = Array(0..<8)
    /// Period τ over the two classes, seconds (seed: 200 µs).
    public var periodSeconds: Double = 200e-6
    /// Learning time per run, seconds.
    public var learnSeconds: Double = 1.0
    /// Device seed.
    public var seed: UInt64 = 1
    public var physics: CLLNPhysics = CLLNPhysics()
    /// Overclamping's η and level L0, volts (seed: 0.25, 0.435 V = V+).
    public var overclampEta: Double = 0.25
    public var overclampLevel: Double = 0.435
    /// The gates each run starts from.
    public var start: RingStart = .uniform

    public init() {}

    /// Full: 5 ε × 8 rotations; quick: ε ∈ {83, 417} mV × rotations {0, 3}.
    public static func standard(quick: Bool) -> RingConfig {
        var c = RingConfig()
        if quick {
            c.radiiMillivolts = [83, 417]
            c.rotations = [0, 3]
            c.learnSeconds = 0.5
        }
        return c
    }
}

/// The gates a ring run starts from.
public enum RingStart: String, Sendable, Codable, CaseIterable {
    /// Every gate at `physics.initialGate` (the lab's 3 V).
    case uniform
    /// `physics.initialGate` plus a seeded uniform perturbation in ±0.5 V, within [0, G_max].
    case perturbed
    /// Seeded uniform in [0, G_max].
    case random

    /// The starting gates for `count` edges (nil: the twin's own start), seeded by the run's
    /// device seed and rotation.
    public func gates(count: Int, physics: CLLNPhysics, seed: UInt64, rotation: Int) -> [Double]? {
        var rng = SeededRandom.derived(seed: seed, stream: 0x5747 + UInt64(rotation))
        switch self {
        case .uniform: return nil
        case .perturbed:
            return (0..<count).map { _ in min(max(physics.initialGate + (rng.uniform() - 0.5), 0), physics.gateMax) }
        case .random: return (0..<count).map { _ in physics.gateMax * rng.uniform() }
        }
    }
}

/// The two training protocols compared in seed Fig. 5.
public enum RingMethod: String, Sendable, Codable, CaseIterable {
    /// η = 0.25, L0 = V+ = 0.435 V, t_h = r0 |δ|, hinge (skip points beyond their label).
    case overclamping
    /// η = 1, t_h = 100 µs, hinge (η = 0 for points beyond their label).
    case standardClamping

    /// The schedule for `periods` periods of length τ (overclamping's η and L0 as given).
    public func schedule(periodSeconds: Double, periods: Int, eta: Double = 0.25, level: Double = 0.435)
        -> ContrastiveSchedule
    {
        switch self {
        case .overclamping:
            return ContrastiveSchedule(
                method: .overclamp, eta: eta, overclampLevel: level, stepSeconds: 100e-6, periodSeconds: periodSeconds,
                periods: periods, hinge: true, recordEvery: periods + 1, recordTail: 1)
        case .standardClamping:
            return ContrastiveSchedule(
                method: .coupled, eta: 1, stepSeconds: 100e-6, periodSeconds: periodSeconds, periods: periods, hinge: true,
                recordEvery: periods + 1, recordTail: 1)
        }
    }
}

/// One trained run: accuracy over the 8 points and hinge loss (A2 averaged over the classes, A3).
public struct RingRun: Sendable, Codable, Equatable {
    public var method: RingMethod
    public var radiusMillivolts: Double
    public var rotation: Int
    public var accuracy: Double
    public var hingeLoss: Double
}

/// Mean ± standard error over rotations for one method and ε.
public struct RingSummary: Sendable, Codable, Equatable {
    public var method: RingMethod
    public var radiusMillivolts: Double
    public var accuracy: Double
    public var accuracyError: Double
    public var hingeLoss: Double
    public var hingeLossError: Double
    public var runs: Int
}

/// Everything the ring experiment measured.
public struct RingResult: Sendable, Codable, Equatable {
    public var config: RingConfig
    public var runs: [RingRun]
    public var summaries: [RingSummary]
    public var wallSeconds: Double

    public func summary(_ method: RingMethod) -> [RingSummary] { summaries.filter { $0.method == method } }
}

/// The seed-002 Fig. 5 experiment on the lattice twin (see `RingConfig`).
public enum RingExperiment {
    /// Train a fresh twin on one ring split and measure it at the end.
    public static func run(method: RingMethod, radiusMillivolts: Double, rotation: Int, config: RingConfig) async throws
        -> RingRun
    {
        let topology = NetworkTopology.periodicLattice()
        let twin: CLLNTwin
        do { twin = try CLLNTwin(topology: topology, physics: config.physics, seed: config.seed) } catch {
            throw ExperimentError.device(error.description)
        }
        let dataset: ContrastiveDataset
        do {
            dataset = try ContrastiveTasks.dataset(
                ContrastiveTaskSpec(name: .ring, radiusMillivolts: radiusMillivolts, rotation: rotation), topology: topology)
        } catch { throw ExperimentError.task(error.description) }
        let periods = max(1, Int((config.learnSeconds / config.periodSeconds).rounded()))
        let records = await twin.collectRecords(
            method.schedule(
                periodSeconds: config.periodSeconds, periods: periods, eta: config.overclampEta, level: config.overclampLevel),
            dataset: dataset)
        guard let last = records.last(where: { $0.kind == .slotEnd }) else {
            throw ExperimentError.tooFewRecords(tau: config.periodSeconds, got: 0, needed: 1)
        }
        var right = 0.0
        var total = 0.0
        for (t, task) in dataset.tasks.enumerated() {
            right += task.accuracy(outputs: last.outputs[t]) * Double(task.points.count)
            total += Double(task.points.count)
        }
        return RingRun(
            method: method, radiusMillivolts: radiusMillivolts, rotation: rotation, accuracy: right / max(total, 1),
            hingeLoss: last.meanError)
    }

    /// Every method × ε × rotation, the methods run concurrently.
    public static func run(_ config: RingConfig) async throws -> RingResult {
        let watch = Stopwatch()
        async let over = runs(.overclamping, config)
        async let standard = runs(.standardClamping, config)
        let all = try await over + standard
        var summaries: [RingSummary] = []
        for method in RingMethod.allCases {
            for eps in config.radiiMillivolts {
                let group = all.filter { $0.method == method && $0.radiusMillivolts == eps }
                summaries.append(
                    RingSummary(
                        method: method, radiusMillivolts: eps, accuracy: Stats.mean(group.map(\.accuracy)),
                        accuracyError: Stats.standardError(group.map(\.accuracy)),
                        hingeLoss: Stats.mean(group.map(\.hingeLoss)),
                        hingeLossError: Stats.standardError(group.map(\.hingeLoss)), runs: group.count))
            }
        }
        return RingResult(config: config, runs: all, summaries: summaries, wallSeconds: watch.seconds)
    }

    static func runs(_ method: RingMethod, _ config: RingConfig) async throws -> [RingRun] {
        var out: [RingRun] = []
        for eps in config.radiiMillivolts {
            for r in config.rotations {
                out.append(try await run(method: method, radiusMillivolts: eps, rotation: r, config: config))
            }
        }
        return out
    }
}
