import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNRuns
import PNNStore
import PNNTraining

extension Train {
    /// Whether this invocation trains with a contrastive method (or resumes such a run).
    func isContrastive(store: RunStore) throws -> Bool {
        if let resume { return ContrastivePlan.from(json: try store.run(id: resume).configJSON) != nil }
        return method.map { ContrastiveMethod(rawValue: $0) != nil } ?? false
    }

    /// `pnnlab train DEVICE --method coupled|overclamp|ep --task two-task|grid|ring ...`.
    func runContrastive(store: RunStore) async throws {
        var plan: ContrastivePlan
        var file: ConfigFile?
        if let config {
            let loaded = try ConfigFile.load(path: config)
            if loaded.method != nil || loaded.trainer != TrainerConfig() {
                throw CLIError(
                    "\(config): method and [trainer] settings apply to the Jacobian methods; contrastive runs take --method and their options on the command line"
                )
            }
            file = loaded
        }
        if let resume {
            guard let stored = ContrastivePlan.from(json: try store.run(id: resume).configJSON) else {
                throw CLIError("run \(resume) is not a contrastive run")
            }
            guard stored.device == device else {
                throw CLIError(
                    "run \(resume) was trained on \(stored.device); resume it with: pnnlab train \(stored.device) --resume \(resume)"
                )
            }
            plan = stored
        } else {
            guard let task = task ?? file?.task else {
                throw ValidationError(
                    "missing --task (\(ContrastiveTaskName.allCases.map(\.rawValue).joined(separator: "|")))")
            }
            guard let method = method.flatMap(ContrastiveMethod.init(rawValue:)) else {
                throw CLIError("internal: not a contrastive method")
            }
            plan = try contrastive.plan(device: device, task: task, method: method, seed: seed ?? file?.seed ?? 1, baud: baud)
        }
        let twinArguments = TwinArguments(
            optionWords: twinOptions, state: try twinState.map { path throws(RunError) in try TwinArguments.readState(path) })
        let opened = try await plan.open(
            twinArguments: twinArguments, configTwin: file?.twin, store: store, reconnectGrace: reconnectGrace)
        plan.twin = opened.device.twin
        await opened.device.connected?.connection.setObserver { event in Terminal.writeError("\npnnlab: \(event)\n") }
        let driver = try ContrastiveDriver(
            substrate: opened.substrate, method: plan.schedule.method, preferHostSteps: plan.preferHostSteps,
            hostLearningRate: plan.hostLearningRate)
        let session: ContrastiveSession
        if let resume {
            session = try await ContrastiveSession.resume(
                runID: resume, plan: plan, driver: driver, dataset: opened.dataset, store: store)
        } else {
            session = try await ContrastiveSession.start(plan: plan, driver: driver, dataset: opened.dataset, store: store)
        }
        let s = session.schedule
        if !json {
            Terminal.writeError(
                "run \(session.runID): \(plan.task.name.rawValue) on \(opened.substrate.descriptor.identity.summary), "
                    + "\(s.method.rawValue) (\(driver.mode.rawValue)), τ = \(formatSeconds(s.periodSeconds)), "
                    + "periods \(s.startPeriod + 1)…\(s.periods), \(opened.substrate.descriptor.parameters.count) parameters\n")
        }
        let progress = TrainingProgress(
            totalSteps: s.periods * opened.dataset.tasks.count + 1, unit: "period", rateUnit: "steps")
        let (outcome, pausedExit) = try await interruptible(runID: session.runID, progress: progress) { pause in
            try await session.run(observer: progress, pauseRequested: pause)
        }
        try reportContrastive(outcome, plan: plan, mode: driver.mode, identity: opened.substrate.descriptor.identity)
        if outcome.stop == .paused {
            Terminal.writeError("paused, device left safe; continue with: pnnlab train \(device) --resume \(session.runID)\n")
            throw pausedExit
        }
    }

    func reportContrastive(_ o: TrainingOutcome, plan: ContrastivePlan, mode: ContrastiveDriveMode, identity: DeviceIdentity)
        throws
    {
        // Read back from the store, so `train`, `runs`, `show` and the export report the same figures.
        let r = try RunResult.load(runID: o.runID ?? 0, store: try storeOptions.open())
        if json {
            try Output.printJSON(r)
            return
        }
        let s = plan.schedule
        let rows: [(String, String)] = [
            ("run", "\(r.run)"), ("device", "\(plan.device) (\(identity.summary))"),
            ("task", r.task), ("method", "\(s.method.rawValue), η = \(s.eta), \(mode.rawValue)"),
            ("period τ", formatSeconds(s.periodSeconds)), ("status", r.status), ("periods", "\(r.epochs)"),
            ("records", "\(r.steps)"), ("train accuracy", formatPercent(r.trainAccuracy)),
            ("final error", r.finalLoss.map { String(format: "%.3g mV²", $0 * 1e6) } ?? "–"),
            ("learning steps", "\(r.measurements)"), ("wall time", String(format: "%.2f s", r.wallSeconds)),
        ]
        try Output.print(Table.keyValue(rows))
    }
}

/// `0.2 s`, `200 µs`, `3 ms`.
func formatSeconds(_ s: Double) -> String {
    if s >= 1 { return String(format: "%.3g s", s) }
    if s >= 1e-3 { return String(format: "%.3g ms", s * 1e3) }
    return String(format: "%.3g µs", s * 1e6)
}
