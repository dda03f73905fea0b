import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNRuns
import PNNStore
import PNNTraining

extension Train {
    /// `pnnlab train DEVICE --method coupled|overclamp|ep --task two-task|grid|ring ...`.
    func runContrastive(store: RunStore) async throws {
        var (plan, fileTwin) = try request.contrastivePlan(contrastive.settings, store: store)
        let twinArguments = TwinArguments(
            optionWords: twinOptions, state: try twinState.map { path throws(RunError) in try TwinArguments.readState(path) })
        let opened = try await plan.open(
            twinArguments: twinArguments, configTwin: fileTwin, store: store, reconnectGrace: reconnectGrace,
            recordTo: link.record)
        plan.twin = opened.device.twin
        await opened.device.connected?.connection.setObserver { event in Terminal.writeError("\npnnlab: \(event)\n") }
        let driver = try ContrastiveDriver(
            substrate: opened.substrate, method: plan.schedule.method, preferHostSteps: plan.preferHostSteps,
            hostLearningRate: plan.hostLearningRate)
        var started: ContrastiveSession
        if let resume {
            started = try await ContrastiveSession.resume(
                runID: resume, plan: plan, driver: driver, dataset: opened.dataset, store: store)
        } else {
            started = try await ContrastiveSession.start(plan: plan, driver: driver, dataset: opened.dataset, store: store)
        }
        started.heldOut = opened.heldOut
        let session = started
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
            ("final error", r.finalLoss.map { String(format: "%.3g V²", $0) } ?? "–"),
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
