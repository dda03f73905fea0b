import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNRuns
import PNNStore
import PNNTraining

extension Train {
    /// `pnnlab train DEVICE --layers 32,10 --method in-silico|pat|dfa|pib --task T`.
    func runDeep(store: RunStore) async throws {
        if twinState != nil {
            throw CLIError("--twin-state describes one twin; a deep run builds one twin per unit from its seed")
        }
        let given = contrastive.settings.given
        if !given.isEmpty {
            throw CLIError("\(given.joined(separator: ", ")) apply to the contrastive methods only")
        }
        var plan: DeepPlan
        if let base = deep.retrain {
            if resume != nil || deep.layers != nil || deep.beta != nil || deep.parallel || task != nil || config != nil
                || seed != nil || deep.modelProfile != nil || method.map({ $0 != DeepMethod.pib.rawValue }) == true
            {
                throw CLIError(
                    "--retrain continues run \(base)'s cascade with its recorded settings; drop --resume/--layers/--beta/--parallel/--task/--config/--seed/--model-profile (--epochs sets the epochs per retrained unit)"
                )
            }
            let broken = try deep.breakADC.map { text throws(RunError) in try DeepRetrain.BrokenChannel(parsing: text) }
            plan = try request.retrainPlan(
                DeepRetrain(baseRun: base, fromUnit: deep.fromUnit ?? 2, brokenConverters: broken), store: store)
        } else {
            if deep.fromUnit != nil || !deep.breakADC.isEmpty {
                throw CLIError("--from-unit and --break-adc go with --retrain RUN")
            }
            plan = try request.deepPlan(
                layers: deep.layers, beta: deep.beta, parallel: deep.parallel, modelProfiles: deep.modelProfile, store: store)
        }
        let opened = try await plan.open(twinOptionWords: twinOptions, store: store, reconnectGrace: reconnectGrace)
        plan.units = opened.twins
        let trainer = try DeepTrainer(
            units: opened.units, models: opened.models, widths: plan.layers, method: plan.method, config: plan.trainer,
            task: opened.task, seed: plan.seed, beta: plan.beta ?? DeepTrainer.defaultBeta,
            parallel: plan.parallel ?? false, startUnit: (plan.retrain?.fromUnit ?? 1) - 1, trainingModels: opened.trainingModels)
        let session: DeepSession
        if let resume {
            session = try await DeepSession.resume(runID: resume, trainer: trainer, store: store)
        } else {
            session = try await DeepSession.start(plan: plan, trainer: trainer, store: store)
        }
        let sources = plan.modelProfiles?.map { $0?.source ?? DeepModelProfile.idealWord }
        if !json {
            let fromProfiles = sources.map { "; models from " + $0.joined(separator: ", ") } ?? ""
            let counts = trainer.parameterCounts.map(String.init).joined(separator: " + ")
            Terminal.writeError(
                "run \(session.runID): \(plan.task.rawValue) through \(plan.layers.count) unit\(plan.layers.count == 1 ? "" : "s") of \(plan.device) "
                    + "(widths \(plan.layers.map(String.init).joined(separator: ","))), \(plan.method.rawValue), "
                    + "\(trainer.epochs) epochs × \(trainer.batchesPerEpoch) batches, \(counts) parameters"
                    + fromProfiles + "\n")
        }
        let ceiling = try store.run(id: session.runID).digitalCeiling
        let progress = TrainingProgress(totalSteps: trainer.totalSteps, ceiling: ceiling)
        let runSession = session
        let (outcome, pausedExit) = try await interruptible(runID: session.runID, progress: progress) { pause in
            var s = runSession
            return try await s.run(observer: progress, pauseRequested: pause)
        }
        try reportDeep(outcome, plan: plan)
        if outcome.stop == .paused {
            Terminal.writeError("paused, devices left safe; continue with: pnnlab train \(device) --resume \(session.runID)\n")
            throw pausedExit
        }
    }

    func reportDeep(_ o: TrainingOutcome, plan: DeepPlan) throws {
        let d = try DeepRunResult.load(runID: o.runID ?? 0, store: try storeOptions.open())
        if json {
            try Output.printJSON(d)
            return
        }
        let r = d.result
        let rows: [(String, String)] = [
            ("run", "\(r.run)"), ("device", "\(plan.device), \(plan.layers.count) unit\(plan.layers.count == 1 ? "" : "s")"),
            ("layers", plan.layers.map(String.init).joined(separator: ",")), ("task", r.task), ("method", r.method),
            ("status", r.status), ("epochs", "\(r.epochs)"), ("train accuracy", formatPercent(r.trainAccuracy)),
            ("test accuracy", formatPercent(r.testAccuracy)),
            ("model test accuracy", formatPercent(d.modelTestAccuracy) + " (the units' ideal models at the same parameters)"),
            (
                "digital ceiling",
                r.digitalCeiling.map {
                    "\(formatPercent($0)) (the same cascade, encoding and split trained digitally with exact arithmetic)"
                } ?? "–"
            ),
            ("final loss", r.finalLoss.map { String(format: "%.4f", $0) + " " + r.lossUnit } ?? "–"),
            (
                "measurements",
                "\(r.measurements) (per unit: \(d.unitMeasurements.map(String.init).joined(separator: ", ")); "
                    + "\(d.evaluationMeasurements) of them measuring accuracy)"
            ),
            ("wall time", String(format: "%.2f s", r.wallSeconds)),
        ]
        let sources = plan.modelProfiles?.map { $0?.source ?? DeepModelProfile.idealWord }
        let profiles: [(String, String)] = sources.map { [("model profiles", $0.joined(separator: ", "))] } ?? []
        try Output.print(Table.keyValue(rows + profiles))
    }
}
