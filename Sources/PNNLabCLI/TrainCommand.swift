import ArgumentParser
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import PNNRuns
import PNNStore
import PNNTraining
import Synchronization

/// `pnnlab train DEVICE --task T --method M` — in-situ training, recorded step by step.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a device in situ on a task; every step is committed to the store.",
        discussion: """
            Ctrl-C (or SIGTERM, SIGHUP) pauses at the next step boundary with the device left \
            safe: status paused, exit status 130 (143 for SIGTERM, 129 for SIGHUP); continue with \
            --resume RUN. A second one aborts the step in flight after the device's safe-state \
            ramp: status aborted, same exit status, still resumable from the last committed step. \
            A run whose process died (kill -9, power cut) shows as interrupted; --resume \
            continues any run but a completed one, and refuses one another process is training.

            """ + FamilyHelp.twins())

    @Argument(
        help:
            "Device: a twin (\(FamilyHelp.twinNames)), a name registered with 'pnnlab attach', a port path or usb:VID:PID[:serial]."
    )
    var device: String

    @OptionGroup var link: LinkOptions
    var baud: Int? { link.baud }
    var reconnectGrace: Double { link.reconnectGrace }

    @Option(
        help: ArgumentHelp("sim: devices: start from this exported twin state (see 'pnnlab twin export').", valueName: "FILE"))
    var twinState: String?

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("A twin's own options (listed below), e.g. --graph two-plus-one.", valueName: "twin-options"))
    var twinOptions: [String] = []

    @Option(
        help:
            "Task: \(TaskName.allCases.map(\.rawValue).joined(separator: ", ")); contrastive: \(ContrastiveTaskName.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var task: String?

    @Option(
        help:
            "Method: \(TrainingMethod.allCases.map(\.rawValue).joined(separator: ", ")); contrastive: \(ContrastiveMethod.allCases.map(\.rawValue).joined(separator: ", ")); with --layers: \(DeepMethod.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var method: String?

    @Option(parsing: .unconditional, help: "Passes over the training split (default depends on the method).")
    var epochs: Int?

    @Option(
        help: ArgumentHelp(
            "Gradient and Gauss–Newton: a full finite-difference Jacobian every N steps, rank-one Broyden updates between (full-batch steps; default 1: every step).",
            valueName: "N"))
    var jacobianRefresh: Int?

    @Option(help: "Seed for the data split, the initial parameters and the twin.")
    var seed: UInt64?

    @Option(help: "TOML file with [trainer] and [twin] settings.")
    var config: String?

    @Option(help: "Continue run RUN from its last committed step.")
    var resume: Int64?

    @Flag(help: "Print one JSON object with the results instead of a table.")
    var json = false

    @OptionGroup(title: "Contrastive methods (coupled, overclamp, ep)") var contrastive: ContrastiveOptions

    @OptionGroup(title: "Deep networks (in-silico, pat, dfa, pib)") var deep: DeepOptions

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if let epochs, epochs < 1 || epochs > TrainerConfig.maxEpochs {
            throw ValidationError("--epochs must be between 1 and \(TrainerConfig.maxEpochs)")
        }
        if let jacobianRefresh, jacobianRefresh < 1 { throw ValidationError("--jacobian-refresh must be at least 1") }
        if resume != nil,
            task != nil || method != nil || config != nil || seed != nil || twinState != nil || !twinOptions.isEmpty
                || jacobianRefresh != nil
        {
            throw ValidationError(
                "--resume continues a run with its recorded settings; drop --task/--method/--seed/--config and twin options")
        }
    }

    func run() async throws {
        let store = try storeOptions.open()
        if try deep.retrain != nil || request.isDeep(layers: deep.layers, store: store) {
            try await runDeep(store: store)
            return
        }
        if deep.modelProfile != nil {
            throw CLIError("--model-profile applies to deep runs (--layers, --method in-silico|pat|dfa|pib) only")
        }
        if try request.isContrastive(store: store) {
            if jacobianRefresh != nil { throw CLIError("--jacobian-refresh applies to gradient and gauss-newton runs only") }
            try await runContrastive(store: store)
            return
        }
        let given = contrastive.settings.given
        if !given.isEmpty {
            throw CLIError(
                "\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to the contrastive methods (\(ContrastiveMethod.allCases.map(\.rawValue).joined(separator: ", "))) only"
            )
        }
        let (plan, fileTwin) = try request.jacobianPlan(store: store)
        let twinArguments = TwinArguments(
            optionWords: twinOptions, state: try twinState.map { path throws(RunError) in try TwinArguments.readState(path) })
        let opened = try await plan.open(
            twinArguments: twinArguments, configTwin: fileTwin, store: store, reconnectGrace: reconnectGrace,
            recordTo: link.record)
        let substrate = opened.substrate
        await opened.device.connected?.connection.setObserver { event in Terminal.writeError("\npnnlab: \(event)\n") }
        var recordedPlan = plan
        recordedPlan.twin = opened.device.twin
        let trainer = try Trainer(substrate: substrate, method: plan.method, config: plan.trainer, task: opened.task)

        var session: TrainingSession
        if let resume {
            session = try await TrainingSession.resume(runID: resume, trainer: trainer, store: store)
        } else {
            session = try await TrainingSession.start(plan: recordedPlan, trainer: trainer, store: store)
        }
        if !json {
            Terminal.writeError(
                "run \(session.runID): \(plan.task.rawValue) on \(substrate.descriptor.identity.summary), \(plan.method.rawValue), "
                    + "\(trainer.epochs) epochs × \(trainer.batchesPerEpoch) steps, \(substrate.descriptor.parameters.count) parameters\n"
            )
        }
        let ceiling = try store.run(id: session.runID).digitalCeiling
        let progress = TrainingProgress(totalSteps: trainer.epochs * trainer.batchesPerEpoch, ceiling: ceiling)
        let runSession = session
        let (outcome, pausedExit) = try await interruptible(runID: session.runID, progress: progress) { pause in
            var s = runSession
            return try await s.run(observer: progress, pauseRequested: pause)
        }
        try report(outcome, plan: plan, identity: substrate.descriptor.identity)
        if outcome.stop == .paused {
            Terminal.writeError("paused, device left safe; continue with: pnnlab train \(device) --resume \(session.runID)\n")
            throw pausedExit
        }
    }

    /// The command line as a request; `PNNRuns` resolves it into a plan.
    var request: TrainRequest {
        TrainRequest(
            device: device, task: task, method: method, epochs: epochs, seed: seed, configPath: config, resume: resume,
            baud: baud, jacobianRefresh: jacobianRefresh)
    }

    func report(_ o: TrainingOutcome, plan: RunPlan, identity: DeviceIdentity) throws {
        // Read back from the store, so `train`, `runs`, `show` and the export report the same figures.
        let r = try RunResult.load(runID: o.runID ?? 0, store: try storeOptions.open())
        if json {
            try Output.printJSON(r)
            return
        }
        let rows: [(String, String)] = [
            ("run", "\(r.run)"), ("device", "\(plan.device) (\(identity.summary))"), ("task", r.task),
            ("method", r.method), ("status", r.status), ("steps", "\(r.steps)"),
            ("train accuracy", formatPercent(r.trainAccuracy)), ("test accuracy", formatPercent(r.testAccuracy)),
            ("digital ceiling", ceilingText(r.digitalCeiling)),
        ]
        let ceiling: [(String, String)] =
            r.readoutCeiling.map { [("readout ceiling", formatPercent($0) + " (\(r.readoutCeilingSource ?? ""))")] } ?? []
        let rms: [(String, String)] = r.rmsError.map { [("rms error (test grid)", String(format: "%.4f", $0))] } ?? []
        let rest: [(String, String)] = [
            ("final loss", r.finalLoss.map { String(format: "%.4f", $0) + " " + r.lossUnit } ?? "–"),
            ("measurements", "\(r.measurements)"), ("wall time", String(format: "%.2f s", r.wallSeconds)),
        ]
        try Output.print(Table.keyValue(rows + ceiling + rms + rest))
    }
}

extension Train {
    /// Runs a training call under signal handling (`InterruptController`: first SIGINT,
    /// SIGTERM or SIGHUP pauses at the next safe point, the second aborts) and turns an
    /// abort or a lost link into the one-line resume hint. A pause returns the outcome; the
    /// caller reports it and exits with `pausedExit`'s status.
    func interruptible(
        runID: Int64, progress: TrainingProgress,
        _ body: @escaping @Sendable (@escaping @Sendable () -> Bool) async throws -> TrainingOutcome
    ) async throws -> (outcome: TrainingOutcome, pausedExit: ExitCode) {
        let interrupts = await InterruptController.install()
        let box = OutcomeBox()
        let work = Task {
            do {
                box.set(.success(try await body { interrupts.pauseRequested }))
            } catch {
                box.set(.failure(error))
            }
        }
        interrupts.watch(work)
        await work.value
        progress.finish()
        let status = ExitCode(interrupts.exitStatus ?? 130)
        switch box.get() {
        case .success(let o): return (o, status)
        case .failure(let error) where error is CancellationError || interrupts.aborted:
            Terminal.writeError(
                "pnnlab: aborted, device left safe; run \(runID) keeps what it committed: pnnlab train \(device) --resume \(runID)\n"
            )
            throw status
        case .failure(let error) where error is LinkError:
            throw CLIError("\(error); what was committed is kept: pnnlab train \(device) --resume \(runID)")
        case .failure(let error): throw error
        case nil: throw CLIError("training ended without a result")
        }
    }
}

/// The digital ceiling as the tables show it: the percentage and what it is.
func ceilingText(_ ceiling: Double?) -> String {
    ceiling.map { "\(formatPercent($0)) (test accuracy of the same linear map, encoding and split trained digitally)" } ?? "–"
}

/// Carries the training task's result back to the command.
final class OutcomeBox: Sendable {
    private let value = Mutex<Result<TrainingOutcome, any Error>?>(nil)
    func set(_ v: Result<TrainingOutcome, any Error>) { value.withLock { $0 = v } }
    func get() -> Result<TrainingOutcome, any Error>? { value.withLock { $0 } }
}
