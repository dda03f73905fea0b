import Foundation
import PNNCore
import PNNTraining

/// A contrastive training run: device, task, schedule and every setting. Stored as the run's
/// config JSON (with `kind = "contrastive"`), so `--resume RUN` rebuilds the same run.
public struct ContrastivePlan: Sendable, Codable, Equatable {
    /// Tells contrastive plans apart from the Jacobian trainer's `RunPlan` in the store.
    public var kind = "contrastive"
    public var device: String
    public var task: ContrastiveTaskSpec
    public var schedule: ContrastiveSchedule
    public var seed: UInt64
    /// Value every trainable parameter starts from (gate voltage V, or conductance S on a
    /// resistor network); nil: the middle of the device's safe range.
    public var initialParameter: Double?
    /// Drive each step from the host even when the board could run the schedule itself.
    public var preferHostSteps: Bool
    /// α per second of step time for host-computed coupled learning, S/(V²·s).
    public var hostLearningRate: Double
    /// Twin settings for `sim:` devices (family, twin name and resolved settings).
    public var twin: TwinSpec?
    /// Serial baud rate for devices on a serial port.
    public var baud: Int?

    public init(
        device: String, task: ContrastiveTaskSpec, schedule: ContrastiveSchedule, seed: UInt64,
        initialParameter: Double? = nil, preferHostSteps: Bool = false, hostLearningRate: Double = 20,
        twin: TwinSpec? = nil, baud: Int? = nil
    ) {
        self.device = device
        self.task = task
        self.schedule = schedule
        self.seed = seed
        self.initialParameter = initialParameter
        self.preferHostSteps = preferHostSteps
        self.hostLearningRate = hostLearningRate
        self.twin = twin
        self.baud = baud
    }

    /// Key-sorted JSON (what the store keeps).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The plan stored as a run's config, or nil when that run is not a contrastive run.
    public static func from(json: String) -> ContrastivePlan? {
        guard let plan = try? JSONDecoder().decode(ContrastivePlan.self, from: Data(json.utf8)),
            plan.kind == "contrastive"
        else { return nil }
        return plan
    }
}

/// What a committed contrastive record keeps besides the gates (the step's parameters):
/// enough to draw the run and to resume it at the next period.
public struct ContrastiveCheckpoint: Sendable, Codable, Equatable {
    public var kind: ScheduleRecord.Kind
    public var period: Int
    public var task: Int
    /// Learning time since the run started, seconds.
    public var time: Double
    public var r0: Double
    public var steps: Int
    public var skipped: Int
    /// Error per task (seed eq. A1/A2), V².
    public var errors: [Double]
    /// Accuracy per task (classification), 0…1.
    public var accuracies: [Double]
}
