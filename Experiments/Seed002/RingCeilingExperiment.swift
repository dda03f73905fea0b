import Foundation
import PNNCore
import PNNSim
import PNNTraining

/// Settings of the ring ceiling: how well the lab lattice can classify the seed-002 Fig. 5
/// ring at all, whatever the learning rule — its 32 gates optimised directly on the hinge
/// loss, within their safe range [0, G_max].
public struct RingCeilingConfig: Sendable, Codable, Equatable {
    public var radiiMillivolts: [Double] = [83]
    public var rotations: [Int] = Array(0..<8)
    /// Starts per split: the lab's starting gates (all at `physics.initialGate`), then random
    /// gates uniform in [0, G_max].
    public var restarts: Int = 4
    /// Projected Adam steps per start.
    public var iterations: Int = 300
    /// Adam step, volts of gate (decays as 1/√(1 + k/50)).
    public var stepVolts: Double = 0.1
    /// Forward-difference step of the gradient, volts.
    public var differenceVolts: Double = 1e-4
    /// Device seed (the ring experiment's: its A0 and B play no part in the outputs).
    public var seed: UInt64 = 1
    public var physics: CLLNPhysics = CLLNPhysics()
    /// Then overclamping (the ring experiment's schedule) from the optimum for this long,
    /// seconds, with the bias and with B = 0: does the rule keep what the optimiser found?
    /// 0 skips it.
    public var relearnSeconds: Double = 1
    /// The ring experiment's period τ, seconds.
    public var periodSeconds: Double = 200e-6

    public init() {}
}

/// The best gates found for one split.
public struct RingCeilingRun: Sendable, Codable, Equatable {
    public var radiusMillivolts: Double
    public var rotation: Int
    /// At the lowest hinge loss found: accuracy over the 8 points, the hinge loss (A2
    /// averaged over the two classes, as `RingRun`), and the smallest margin label sign × O
    /// over the points, mV (≥ 18 mV: every point beyond its label; > 0: all classified).
    public var accuracy: Double
    public var hingeLoss: Double
    public var minimumMarginMillivolts: Double
    /// Best accuracy seen at any iterate of any start.
    public var bestAccuracySeen: Double
    /// Gates at the optimum, volts (trainable-edge order), and how many sit within 1 mV of
    /// 0 or G_max.
    public var gates: [Double]
    public var gatesOnALimit: Int
    /// Outputs of the network at the optimum, one per point (alpha points first), volts.
    public var outputs: [Double]
    /// Network solves spent (one per point per loss evaluation).
    public var solves: Int
    /// After `relearnSeconds` of overclamping from the optimum: accuracy and hinge loss with
    /// the device's bias B, and accuracy with B = 0 (nil when not run).
    public var relearnedAccuracy: Double?
    public var relearnedHingeLoss: Double?
    public var relearnedAccuracyWithoutBias: Double?
}

/// The ring ceiling over every radius and rotation.
public struct RingCeilingResult: Sendable, Codable, Equatable {
    public var config: RingCeilingConfig
    public var runs: [RingCeilingRun]
    public var wallSeconds: Double
}

/// Directly optimises the lattice's trainable gates (the in-silico ceiling of the layout):
/// projected Adam on the hinge loss with forward-difference gradients, from several starts.
/// Bias B and learning rates A0 do not enter the outputs, so this is the ceiling of the
/// layout and the transistor physics at that ring size, independent of the learning rule.
public enum RingCeilingExperiment {
    public static func run(_ config: RingCeilingConfig) async throws -> RingCeilingResult {
        let watch = Stopwatch()
        var runs: [RingCeilingRun] = []
        for eps in config.radiiMillivolts {
            for rotation in config.rotations {
                var r = try run(radiusMillivolts: eps, rotation: rotation, config: config)
                if config.relearnSeconds > 0 {
                    let withBias = try await relearn(from: r.gates, run: r, physics: config.physics, config: config)
                    var unbiased = config.physics
                    unbiased.biasScale = 0
                    let without = try await relearn(from: r.gates, run: r, physics: unbiased, config: config)
                    r.relearnedAccuracy = withBias.accuracy
                    r.relearnedHingeLoss = withBias.hingeLoss
                    r.relearnedAccuracyWithoutBias = without.accuracy
                }
                runs.append(r)
            }
        }
        return RingCeilingResult(config: config, runs: runs, wallSeconds: watch.seconds)
    }

    /// Overclamping (`RingMethod.overclamping`, as in the ring experiment) for
    /// `config.relearnSeconds` on a fresh twin programmed with `gates`.
    static func relearn(from gates: [Double], run r: RingCeilingRun, physics: CLLNPhysics, config: RingCeilingConfig)
        async throws -> RingRun
    {
        let topology = NetworkTopology.periodicLattice()
        let dataset: ContrastiveDataset
        let twin: CLLNTwin
        do {
            dataset = try ContrastiveTasks.dataset(
                ContrastiveTaskSpec(name: .ring, radiusMillivolts: r.radiusMillivolts, rotation: r.rotation), topology: topology)
            twin = try CLLNTwin(topology: topology, physics: physics, seed: config.seed)
            _ = try await twin.uncheckedProgram(gates)
        } catch { throw ExperimentError.device("\(error)") }
        let periods = max(1, Int((config.relearnSeconds / config.periodSeconds).rounded()))
        let records = await twin.collectRecords(
            RingMethod.overclamping.schedule(periodSeconds: config.periodSeconds, periods: periods), dataset: dataset)
        guard let last = records.last(where: { $0.kind == .slotEnd }) else {
            throw ExperimentError.tooFewRecords(tau: config.periodSeconds, got: 0, needed: 1)
        }
        var right = 0.0
        for (t, task) in dataset.tasks.enumerated() {
            right += task.accuracy(outputs: last.outputs[t]) * Double(task.points.count)
        }
        return RingRun(
            method: .overclamping, radiusMillivolts: r.radiusMillivolts, rotation: r.rotation,
            accuracy: right / Double(max(dataset.pointCount, 1)), hingeLoss: last.meanError)
    }

    /// One split: the best of `config.restarts` starts.
    public static func run(radiusMillivolts: Double, rotation: Int, config: RingCeilingConfig) throws -> RingCeilingRun {
        let topology = NetworkTopology.periodicLattice()
        let dataset: ContrastiveDataset
        do {
            dataset = try ContrastiveTasks.dataset(
                ContrastiveTaskSpec(name: .ring, radiusMillivolts: radiusMillivolts, rotation: rotation), topology: topology)
        } catch { throw ExperimentError.task(error.description) }
        var net: CLLNNetwork
        do {
            net = try CLLNNetwork(state: CLLNState(topology: topology, physics: config.physics, seed: config.seed))
        } catch { throw ExperimentError.device(error.description) }
        let count = net.trainableGates.count
        let gMax = config.physics.gateMax
        var solves = 0
        func outputs(_ g: [Double]) -> [[[Double]]] {
            net.setGates(g)
            return dataset.tasks.map { task in
                task.points.map { p in
                    net.setSources(p.inputs)
                    solves += 1
                    return net.freeOutputs()
                }
            }
        }
        func loss(_ o: [[[Double]]]) -> Double {
            zip(dataset.tasks, o).map { $0.error(outputs: $1) }.reduce(0, +) / Double(dataset.tasks.count)
        }
        func accuracy(_ o: [[[Double]]]) -> Double {
            let right = zip(dataset.tasks, o).map { $0.accuracy(outputs: $1) * Double($0.points.count) }.reduce(0, +)
            return right / Double(dataset.pointCount)
        }
        var rng = SeededRandom.derived(seed: config.seed, stream: 0x5219 + UInt64(rotation))
        var best: (loss: Double, gates: [Double], outputs: [[[Double]]])?
        var bestAccuracySeen = 0.0
        for start in 0..<max(config.restarts, 1) {
            var g =
                start == 0
                ? [Double](repeating: config.physics.initialGate, count: count)
                : (0..<count).map { _ in gMax * rng.uniform() }
            var m = [Double](repeating: 0, count: count), v = m
            for k in 1...max(config.iterations, 1) {
                let o = outputs(g)
                let e = loss(o)
                bestAccuracySeen = max(bestAccuracySeen, accuracy(o))
                if best == nil || e < best!.loss { best = (e, g, o) }
                if e == 0 { break }
                var grad = [Double](repeating: 0, count: count)
                for i in 0..<count {
                    var h = config.differenceVolts
                    if g[i] + h > gMax { h = -h }
                    var probe = g
                    probe[i] += h
                    grad[i] = (loss(outputs(probe)) - e) / h
                }
                let rate = config.stepVolts / (1 + Double(k) / 50).squareRoot()
                let (b1, b2) = (0.9, 0.999)
                for i in 0..<count {
                    m[i] = b1 * m[i] + (1 - b1) * grad[i]
                    v[i] = b2 * v[i] + (1 - b2) * grad[i] * grad[i]
                    let step = (m[i] / (1 - pow(b1, Double(k)))) / ((v[i] / (1 - pow(b2, Double(k)))).squareRoot() + 1e-30)
                    g[i] = min(max(g[i] - rate * step, 0), gMax)
                }
            }
            if best?.loss == 0 { break }
        }
        guard let best else { throw ExperimentError.task("no start was evaluated") }
        var margins: [Double] = []
        var flat: [Double] = []
        for (task, o) in zip(dataset.tasks, best.outputs) {
            for (p, point) in task.points.enumerated() {
                let label = point.labels[0]
                margins.append((label > 0 ? 1 : -1) * o[p][0] * 1000)
                flat.append(o[p][0])
            }
        }
        return RingCeilingRun(
            radiusMillivolts: radiusMillivolts, rotation: rotation, accuracy: accuracy(best.outputs), hingeLoss: best.loss,
            minimumMarginMillivolts: margins.min() ?? 0, bestAccuracySeen: bestAccuracySeen, gates: best.gates,
            gatesOnALimit: best.gates.filter { $0 < 1e-3 || $0 > gMax - 1e-3 }.count, outputs: flat, solves: solves,
            relearnedAccuracy: nil, relearnedHingeLoss: nil, relearnedAccuracyWithoutBias: nil)
    }
}
