import ArgumentParser
import Foundation
import PNNCore
import PNNRuns
import PNNTraining

/// The `pnnlab train` options of the contrastive methods (coupled, overclamp, ep).
struct ContrastiveOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Period τ in seconds of learning time, shared by the tasks (two tasks: τ/2 each).")
    var tau: Double?

    @Option(parsing: .unconditional, help: "Number of periods (default: enough for 2 s of learning time, at least 20).")
    var periods: Int?

    @Option(parsing: .unconditional, help: "Nudge amplitude η (coupled default 1, overclamp 0.25, ep 0.1).")
    var eta: Double?

    @Option(parsing: .unconditional, help: "Learning time per step t_h, milliseconds (overclamp: the mean step r0 |δ| aims at).")
    var stepMs: Double = ContrastiveSettings.defaultStepMs

    @Option(help: "Overclamping level L0, volts.")
    var overclampLevel: Double = ContrastiveSettings.defaultOverclampLevel

    @Option(parsing: .unconditional, help: "Ring task: its diameter ε in millivolts (83…417), as seed 002 defines it.")
    var radiusMv: Double?

    @Option(parsing: .unconditional, help: "Ring task: which of the 8 linear splits (0…7).")
    var rotation: Int?

    @Flag(inversion: .prefixedNo, help: "Classification hinge (default: on for classification tasks).")
    var hinge: Bool?

    @Flag(help: "Drive every step from the host even when the board can run the schedule itself.")
    var hostSteps = false

    @Option(help: "Commit the slot-end records of every k-th period (always the last 3).")
    var recordEvery: Int = 1

    @Option(help: "Within the last period, record the gate voltages every n steps (cycle plots; 0 = off).")
    var traceEvery: Int = 0

    @Option(
        parsing: .unconditional,
        help: "Initial value of every trainable parameter (gate voltage, V; default: middle of the safe range).")
    var initialGate: Double?

    /// These options as the library's settings (defaults and plan building live there).
    var settings: ContrastiveSettings {
        var s = ContrastiveSettings()
        s.tau = tau
        s.periods = periods
        s.eta = eta
        s.stepMs = stepMs
        s.overclampLevel = overclampLevel
        s.radiusMv = radiusMv
        s.rotation = rotation
        s.hinge = hinge
        s.hostSteps = hostSteps
        s.recordEvery = recordEvery
        s.traceEvery = traceEvery
        s.initialGate = initialGate
        return s
    }

    func validate() throws {
        for (name, value) in [("--tau", tau), ("--eta", eta), ("--radius-mv", radiusMv), ("--initial-gate", initialGate)] {
            if let value, !value.isFinite { throw ValidationError("\(name) must be a finite number") }
        }
        guard stepMs.isFinite, stepMs > 0, stepMs <= 10_000 else {
            throw ValidationError("--step-ms must be a number of milliseconds above 0 and at most 10000")
        }
        if let tau, !(tau > 0 && tau <= 1e6) {
            throw ValidationError("--tau must be a number of seconds above 0 and at most 1e6")
        }
        if let periods, !(1...10_000_000).contains(periods) { throw ValidationError("--periods must be between 1 and 10000000") }
        if let eta, !(eta > 0 && eta <= 100) { throw ValidationError("--eta must be above 0 and at most 100") }
        guard overclampLevel.isFinite, overclampLevel > 0, overclampLevel <= 10 else {
            throw ValidationError("--overclamp-level must be a number of volts above 0 and at most 10")
        }
        if recordEvery < 1 { throw ValidationError("--record-every must be at least 1") }
        if traceEvery < 0 { throw ValidationError("--trace-every must be 0 or more") }
    }
}
