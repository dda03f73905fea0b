import Foundation
import PNNCore
import PNNSim
import PNNTraining

/// One setting of the overclamping sweep on the narrowest ring (issue 14).
public struct RingSweepSetting: Sendable, Codable, Equatable, Hashable {
    public var eta: Double
    /// Overclamping level L0, volts.
    public var level: Double
    public var start: RingStart
    /// Learning time, seconds.
    public var learnSeconds: Double

    public init(eta: Double, level: Double, start: RingStart, learnSeconds: Double) {
        self.eta = eta
        self.level = level
        self.start = start
        self.learnSeconds = learnSeconds
    }
}

/// Mean accuracy and hinge loss of one setting over the rotations, and per rotation.
public struct RingSweepRow: Sendable, Codable, Equatable {
    public var setting: RingSweepSetting
    public var accuracy: Double
    public var accuracyError: Double
    public var hingeLoss: Double
    public var perRotation: [Double]
}

/// Overclamping (`RingExperiment`, the ring experiment's device and schedule) at one ring size
/// over a grid of η, L0 and starting gates, then the best settings again with longer learning:
/// which change of the rule or the start reaches the ceiling `RingCeilingExperiment` found.
public enum RingSweepExperiment {
    /// Every setting in `grid`, then the best `retry` by mean accuracy (ties: lower hinge
    /// loss) at each of `longerSeconds`. Two runs at a time.
    public static func run(
        radiusMillivolts: Double = 83, grid: [RingSweepSetting], retry: Int, longerSeconds: [Double],
        base: RingConfig = RingConfig()
    ) async throws -> (rows: [RingSweepRow], longer: [RingSweepRow]) {
        let rows = try await evaluate(grid, radiusMillivolts: radiusMillivolts, base: base)
        let best = rows.sorted { ($0.accuracy, -$0.hingeLoss) > ($1.accuracy, -$1.hingeLoss) }.prefix(retry)
        let again = longerSeconds.flatMap { t in
            best.map { r in
                var s = r.setting
                s.learnSeconds = t
                return s
            }
        }
        return (rows, try await evaluate(again, radiusMillivolts: radiusMillivolts, base: base))
    }

    static func evaluate(_ settings: [RingSweepSetting], radiusMillivolts: Double, base: RingConfig) async throws
        -> [RingSweepRow]
    {
        let jobs = settings.indices.flatMap { i in base.rotations.map { (i, $0) } }
        var results: [Int: [RingRun]] = [:]
        try await withThrowingTaskGroup(of: (Int, RingRun).self) { group in
            var next = 0
            func add() {
                guard next < jobs.count else { return }
                let (i, rotation) = jobs[next]
                next += 1
                var config = base
                config.overclampEta = settings[i].eta
                config.overclampLevel = settings[i].level
                config.start = settings[i].start
                config.learnSeconds = settings[i].learnSeconds
                group.addTask {
                    (
                        i,
                        try await RingExperiment.run(
                            method: .overclamping, radiusMillivolts: radiusMillivolts, rotation: rotation, config: config)
                    )
                }
            }
            add()
            add()
            while let (i, run) = try await group.next() {
                results[i, default: []].append(run)
                add()
            }
        }
        return settings.indices.map { i in
            let runs = (results[i] ?? []).sorted { $0.rotation < $1.rotation }
            return RingSweepRow(
                setting: settings[i], accuracy: Stats.mean(runs.map(\.accuracy)),
                accuracyError: Stats.standardError(runs.map(\.accuracy)), hingeLoss: Stats.mean(runs.map(\.hingeLoss)),
                perRotation: runs.map(\.accuracy))
        }
    }
}
