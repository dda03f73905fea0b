import ArgumentParser
import Foundation
import PNNCore
import PNNSim
import PNNTraining

/// The `pnnlab train` options of the contrastive methods (coupled, overclamp, ep).
struct ContrastiveOptions: ParsableArguments {
    @Option(help: "Period τ in seconds of learning time, shared by the tasks (two tasks: τ/2 each).")
    var tau: Double?

    @Option(help: "Number of periods (default: enough for 2 s of learning time, at least 20).")
    var periods: Int?

    @Option(help: "Nudge amplitude η (coupled default 1, overclamp 0.25, ep 0.1).")
    var eta: Double?

    @Option(help: "Learning time per step t_h, milliseconds (overclamp: the mean step r0 |δ| aims at).")
    var stepMs: Double = 0.1

    @Option(help: "Overclamping level L0, volts.")
    var overclampLevel: Double = 0.435

    @Option(help: "Ring task: ε in millivolts (83…417).")
    var radiusMv: Double?

    @Option(help: "Ring task: which of the 8 linear splits (0…7).")
    var rotation: Int?

    @Flag(inversion: .prefixedNo, help: "Classification hinge (default: on for classification tasks).")
    var hinge: Bool?

    @Option(help: "Twin wiring for sim: devices: lattice (4×4 periodic), two-plus-one, or a graph JSON file.")
    var graph: String?

    @Option(help: "sim:clln: start from this exported twin state (JSON: graph, G, A0, B, sources, clamp).")
    var twinState: String?

    @Flag(help: "sim: devices: switch the per-edge learning bias B off (an ideal learning rule).")
    var noBias = false

    @Flag(help: "Drive every step from the host even when the board can run the schedule itself.")
    var hostSteps = false

    @Option(help: "Commit the slot-end records of every k-th period (always the last 3).")
    var recordEvery: Int = 1

    @Option(help: "Within the last period, record the gate voltages every n steps (cycle plots; 0 = off).")
    var traceEvery: Int = 0

    @Option(help: "Initial value of every trainable parameter (gate voltage, V; default: middle of the safe range).")
    var initialGate: Double?

    /// The plan for `device`, `task` and `method` from these options.
    func plan(device: String, task: String, method: ContrastiveMethod, seed: UInt64, baud: Int?) throws -> ContrastivePlan {
        guard let name = ContrastiveTaskName(rawValue: task) else {
            throw CLIError(
                "unknown task '\(task)' for --method \(method.rawValue); choose one of "
                    + ContrastiveTaskName.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if name != .ring && (radiusMv != nil || rotation != nil) {
            throw CLIError("--radius-mv and --rotation apply to the ring task only")
        }
        let spec = ContrastiveTaskSpec(
            name: name, radiusMillivolts: name == .ring ? (radiusMv ?? 417) : nil, rotation: name == .ring ? (rotation ?? 0) : nil
        )
        let classification = name == .grid || name == .ring
        let eta = self.eta ?? (method == .coupled ? 1 : method == .overclamp ? 0.25 : 0.1)
        let step = stepMs / 1000
        let tau = self.tau ?? (classification ? 2 * step : 0.2)
        let periods = self.periods ?? max(20, Int((2 / tau).rounded(.up)))
        let schedule = ContrastiveSchedule(
            method: method, eta: eta, overclampLevel: overclampLevel, stepSeconds: step, periodSeconds: tau,
            periods: periods, hinge: hinge ?? classification, recordEvery: recordEvery, recordTail: 3,
            traceEvery: traceEvery)
        if let why = schedule.problem(maxLearnSeconds: .infinity) { throw CLIError("the training schedule \(why)") }
        var twin: ContrastiveTwinOptions?
        if device.hasPrefix("sim:") {
            var state: CLLNState?
            if let twinState {
                guard let data = FileManager.default.contents(atPath: twinState) else {
                    throw CLIError("cannot read twin state file \(twinState)")
                }
                state = try CLLNState.importJSON(data)
            }
            twin = ContrastiveTwinOptions(
                topology: try state?.topology ?? Self.topology(graph), bias: !noBias, state: state)
        } else if graph != nil || noBias || twinState != nil {
            throw CLIError("--graph, --no-bias and --twin-state choose the twin of a sim: device; a board has its own wiring")
        }
        return ContrastivePlan(
            device: device, task: spec, schedule: schedule, seed: seed, initialParameter: initialGate,
            preferHostSteps: hostSteps, twin: twin, baud: baud)
    }

    /// The wiring named by `--graph`.
    static func topology(_ graph: String?) throws -> NetworkTopology {
        switch graph ?? "lattice" {
        case "lattice": return .periodicLattice()
        case "two-plus-one", "2+1": return .twoPlusOne
        case let path:
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read graph file \(path)")
            }
            return try NetworkTopology.load(json: data)
        }
    }
}
