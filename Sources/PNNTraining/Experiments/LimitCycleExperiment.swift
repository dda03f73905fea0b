import Foundation
import PNNCore
import PNNSim

/// Seed 002 Fig. 1E–H on the twin: the two-task regression alternated with period τ under
/// standard clamping, swept over τ, with the board's bias on or off; Ē(τ) and D(τ) in
/// steady state.
public struct LimitCycleExperiment: Sendable {
    public var taus: [Double]
    /// Learning time run before the steady-state periods are measured, seconds (at least
    /// `minimumPeriods` periods either way).
    public var settleSeconds: Double
    public var minimumPeriods: Int
    /// Periods averaged at the end.
    public var measuredPeriods: Int
    public var eta: Double
    public var stepSeconds: Double
    public var seed: UInt64
    public var task: ContrastiveTaskSpec
    public var topology: NetworkTopology

    public init(
        taus: [Double], settleSeconds: Double = 20, minimumPeriods: Int = 8, measuredPeriods: Int = 4, eta: Double = 1,
        stepSeconds: Double = 100e-6, seed: UInt64 = 1, task: ContrastiveTaskSpec = ContrastiveTaskSpec(name: .twoTask),
        topology: NetworkTopology = .periodicLattice()
    ) {
        self.taus = taus
        self.settleSeconds = settleSeconds
        self.minimumPeriods = minimumPeriods
        self.measuredPeriods = measuredPeriods
        self.eta = eta
        self.stepSeconds = stepSeconds
        self.seed = seed
        self.task = task
        self.topology = topology
    }

    /// Log-spaced τ values from `from` to `to` seconds.
    public static func logSpaced(from: Double, to: Double, count: Int) -> [Double] {
        (0..<count).map { from * pow(to / from, Double($0) / Double(max(count - 1, 1))) }
    }

    /// One τ: the steady-state summary and the last period's trace (if `traceEvery` > 0).
    public func run(tau: Double, physics: CLLNPhysics, traceEvery: Int = 0) async throws -> (
        summary: LimitCycleSummary, trace: [ScheduleRecord]
    ) {
        let twin = try CLLNTwin(topology: topology, physics: physics, seed: seed)
        let dataset = try ContrastiveTasks.dataset(task, topology: topology)
        let periods = max(minimumPeriods, Int((settleSeconds / tau).rounded(.up)) + measuredPeriods)
        let schedule = ContrastiveSchedule(
            method: .coupled, eta: eta, stepSeconds: min(stepSeconds, tau / 2), periodSeconds: tau, periods: periods,
            recordEvery: periods + 1, recordTail: measuredPeriods, traceEvery: traceEvery)
        let collector = RecordCollector()
        await twin.runScheduleSync(schedule, dataset: dataset) { collector.append($0) }
        let records = collector.records
        guard let summary = LimitCycleAnalysis.summarize(records, tau: tau, lastPeriods: measuredPeriods) else {
            throw TrainingError.invalidConfig("τ = \(tau) s produced no complete period")
        }
        return (summary, records.filter { $0.kind == .trace || $0.kind == .slotEnd && $0.period == periods - 1 })
    }

    /// The sweep with the given physics.
    public func sweep(physics: CLLNPhysics, progress: (@Sendable (Double) -> Void)? = nil) async throws -> [LimitCycleSummary] {
        var out: [LimitCycleSummary] = []
        for tau in taus {
            out.append(try await run(tau: tau, physics: physics).summary)
            progress?(tau)
        }
        return out
    }
}

/// Collects records emitted synchronously inside an actor.
final class RecordCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ScheduleRecord] = []
    func append(_ r: ScheduleRecord) -> Bool {
        lock.lock()
        items.append(r)
        lock.unlock()
        return true
    }
    var records: [ScheduleRecord] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
