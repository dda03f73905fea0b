import Foundation
import PNNCore
import PNNSim

/// Seed 002 Fig. 5 on the twin: the 8-point ring tasks, overclamping against standard
/// clamping, accuracy and hinge loss against ε, mean ± standard error over the 8 rotations.
public struct RingExperiment: Sendable {
    /// One method at one ε: per-rotation results and their mean ± s.e.
    public struct Point: Sendable, Codable, Equatable {
        public var method: ContrastiveMethod
        public var epsilonMillivolts: Double
        public var accuracies: [Double]
        /// Hinge loss E^class (seed eq. A2, both classes averaged), V².
        public var hingeLosses: [Double]
        public var meanAccuracy: Double { accuracies.reduce(0, +) / Double(max(accuracies.count, 1)) }
        public var accuracyError: Double { Self.standardError(accuracies) }
        public var meanHinge: Double { hingeLosses.reduce(0, +) / Double(max(hingeLosses.count, 1)) }
        public var hingeError: Double { Self.standardError(hingeLosses) }

        static func standardError(_ x: [Double]) -> Double {
            guard x.count > 1 else { return 0 }
            let m = x.reduce(0, +) / Double(x.count)
            let v = x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)
            return sqrt(v / Double(x.count))
        }
    }

    public var epsilons: [Double]
    public var rotations: [Int]
    /// Learning time per run, seconds (periods = time / τ).
    public var trainingSeconds: Double
    public var seed: UInt64
    public var topology: NetworkTopology

    public init(
        epsilons: [Double] = [83, 167, 250, 333, 417], rotations: [Int] = Array(0..<8), trainingSeconds: Double = 4,
        seed: UInt64 = 1, topology: NetworkTopology = .periodicLattice()
    ) {
        self.epsilons = epsilons
        self.rotations = rotations
        self.trainingSeconds = trainingSeconds
        self.seed = seed
        self.topology = topology
    }

    /// The seed's settings: overclamping η = 0.25, L0 = V+, τ = 200 µs; standard clamping
    /// η = 1, t_h = 100 µs (τ = 200 µs over the two classes); hinge on for both.
    public func schedule(_ method: ContrastiveMethod) -> ContrastiveSchedule {
        let tau = 200e-6
        let periods = max(1, Int(trainingSeconds / tau))
        return ContrastiveSchedule(
            method: method, eta: method == .overclamp ? 0.25 : 1, overclampLevel: ContrastiveTasks.vPlus, stepSeconds: 100e-6,
            periodSeconds: tau, periods: periods, hinge: true, recordEvery: periods + 1, recordTail: 1)
    }

    /// One run: final accuracy and hinge loss.
    public func run(method: ContrastiveMethod, epsilon: Double, rotation: Int, physics: CLLNPhysics = CLLNPhysics())
        async throws -> (accuracy: Double, hinge: Double)
    {
        let twin = try CLLNTwin(topology: topology, physics: physics, seed: seed)
        let dataset = try ContrastiveTasks.dataset(
            ContrastiveTaskSpec(name: .ring, radiusMillivolts: epsilon, rotation: rotation), topology: topology)
        let collector = RecordCollector()
        await twin.runScheduleSync(schedule(method), dataset: dataset) { collector.append($0) }
        guard let last = collector.records.last(where: { $0.kind == .slotEnd }) else {
            throw TrainingError.invalidConfig("ring run produced no record")
        }
        let correct = dataset.tasks.indices.map {
            dataset.tasks[$0].accuracy(outputs: last.outputs[$0]) * Double(dataset.tasks[$0].points.count)
        }.reduce(0, +)
        return (correct / Double(dataset.pointCount), last.meanError)
    }

    /// Every method × ε × rotation.
    public func sweep(methods: [ContrastiveMethod] = [.overclamp, .coupled], progress: (@Sendable (String) -> Void)? = nil)
        async throws -> [Point]
    {
        var out: [Point] = []
        for method in methods {
            for eps in epsilons {
                var point = Point(method: method, epsilonMillivolts: eps, accuracies: [], hingeLosses: [])
                for r in rotations {
                    let (a, h) = try await run(method: method, epsilon: eps, rotation: r)
                    point.accuracies.append(a)
                    point.hingeLosses.append(h)
                }
                progress?("\(method.rawValue) ε = \(eps) mV: \(point.meanAccuracy)")
                out.append(point)
            }
        }
        return out
    }
}
