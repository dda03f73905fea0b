import Foundation
import PNNCore

/// Where the contrastive update happens.
public enum ContrastiveDriveMode: String, Sendable, Codable, CaseIterable {
    /// The board runs the whole schedule and streams records (one round trip per record).
    case onBoard = "on-board"
    /// The host drives each step; the board's own rule learns (set inputs, clamp, learn).
    case hostSteps = "host-steps"
    /// A device without a learning rule: the host reads both networks' node voltages and
    /// writes the coupled-learning update ΔK = −(α/2η)(ΔV_C² − ΔV_F²) itself.
    case hostComputed = "host-computed"
}

/// Runs a `ContrastiveSchedule` on any clampable device, choosing the drive mode from the
/// capabilities the descriptor declares. Every value goes through the checked entry points.
public struct ContrastiveDriver: Sendable {
    public let substrate: any Substrate
    public let mode: ContrastiveDriveMode
    /// Host-computed coupled learning rate α per second of step time, S/(V²·s).
    public var hostLearningRate: Double

    /// Picks on-board when the device can, host-driven steps when it only self-learns, and
    /// the host-computed rule when it has no learning rule but exposes its nodes. A device
    /// that cannot be clamped, or lacks what the chosen path needs, is a clear error.
    public init(
        substrate: any Substrate, method: ContrastiveMethod, preferHostSteps: Bool = false, hostLearningRate: Double = 20
    ) throws {
        self.substrate = substrate
        self.hostLearningRate = hostLearningRate
        let purpose = "--method \(method.rawValue)"
        _ = try substrate.require(.clampable, as: (any Clampable).self, for: purpose)
        if substrate.descriptor.capabilities.contains(.selfLearning), substrate is any SelfLearning {
            mode = (!preferHostSteps && substrate is any OnBoardTraining) ? .onBoard : .hostSteps
        } else if substrate is any ElementStrainReadout {
            mode = .hostComputed
        } else {
            _ = try substrate.require(
                .nodeReadout, as: (any NodeReadout).self, for: "\(purpose) on a device without a learning rule")
            mode = .hostComputed
        }
    }

    /// Runs `schedule` over `dataset`, handing every record to `emit`; `emit` returns false to
    /// stop early (pause). Returns true when the schedule ran to its end.
    public func run(
        _ schedule: ContrastiveSchedule, dataset: ContrastiveDataset,
        emit: @Sendable (ScheduleRecord) async throws -> Bool
    ) async throws -> Bool {
        switch mode {
        case .onBoard:
            let board = substrate as! any OnBoardTraining
            for try await record in try board.runSchedule(schedule, dataset: dataset) {
                if try await !emit(record) { return false }
            }
            return true
        case .hostSteps, .hostComputed:
            try ContrastiveValidation.check(dataset, descriptor: substrate.descriptor)
            let maxLearn = (substrate as? any SelfLearning)?.maxLearnSeconds ?? .infinity
            try ContrastiveValidation.check(schedule, maxLearnSeconds: maxLearn)
            return try await runOnHost(schedule, dataset: dataset, emit: emit)
        }
    }

    private func runOnHost(
        _ schedule: ContrastiveSchedule, dataset: ContrastiveDataset,
        emit: @Sendable (ScheduleRecord) async throws -> Bool
    ) async throws -> Bool {
        let device = substrate as! any Clampable
        let allInputs = Matrix(dataset.tasks.flatMap { $0.points.map(\.inputs) })
        var machine = ScheduleMachine(schedule: schedule, dataset: dataset)
        while true {
            switch machine.next() {
            case .evaluate:
                let out = try await device.measure(allInputs)
                var k = 0
                let outputs = dataset.tasks.map { task in
                    task.points.map { _ in
                        defer { k += 1 }
                        return out.row(k)
                    }
                }
                let record = machine.record(outputs: outputs, gates: try await device.readParameters())
                if try await !emit(record) { return false }
            case .trace:
                if try await !emit(machine.trace(gates: try await device.readParameters())) { return false }
            case .step(let t, let p):
                let inputs = dataset.tasks[t].points[p].inputs
                try await device.applyInputs(inputs)
                let free = try await device.measure(Matrix(rows: 1, cols: inputs.count, storage: inputs)).row(0)
                let plan = machine.plan(outputFree: free)
                guard let clamp = plan.clamp, plan.seconds > 0 else { continue }
                try await device.setClamp(clamp)
                if mode == .hostSteps {
                    try await (device as! any SelfLearning).learn(seconds: plan.seconds)
                } else if clamp.eta != 0 {
                    try await hostUpdate(device, eta: clamp.eta, seconds: plan.seconds)
                }
            case .finished:
                try await device.setClamp(.free(outputs: device.descriptor.outputs.count))
                return true
            }
        }
    }

    /// Host-computed coupled learning on a plain resistor network (DESIGN.md, Stern et al.):
    /// ΔK = −(α/2η)(ΔV_C² − ΔV_F²) per trainable edge, α = rate × step time, K kept in range.
    /// A device reporting element strains (a spring network: bond extensions) gets the same
    /// rule on them.
    private func hostUpdate(_ device: any Clampable, eta: Double, seconds: Double) async throws {
        let free: [Double]
        let clamped: [Double]
        let elements: [Int]
        if let strains = device as? any ElementStrainReadout {
            free = try await strains.elementStrains(.free)
            clamped = try await strains.elementStrains(.clamped)
            elements = Array(free.indices)
        } else {
            let nodes = device as! any NodeReadout
            let topology = nodes.topology
            free = topology.edgeDrops(try await nodes.readNodes(.free))
            clamped = topology.edgeDrops(try await nodes.readNodes(.clamped))
            elements = topology.trainableEdges
        }
        let space = device.descriptor.parameters
        var k = try await device.readParameters()
        let alpha = hostLearningRate * seconds
        for (i, e) in elements.enumerated() {
            let delta = -(alpha / (2 * abs(eta))) * (clamped[e] * clamped[e] - free[e] * free[e])
            k[i] = min(max(k[i] + delta, space.lower[i]), space.upper[i])
        }
        _ = try await device.setParameters(k)
    }
}
