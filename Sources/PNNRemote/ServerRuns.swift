import Foundation
import PNNCore
import PNNRuns
import PNNStore
import PNNTraining
import Synchronization

/// The `RunLauncher` `pnnlab serve` uses: trains runs inside the server for the `StartRun`, `PauseRun` and `ResumeRun` calls,
/// on the same path as `pnnlab train` (TrainRequest → RunPlan → TrainingSession), recorded
/// in the server's store. While a run trains, the server holds its device's write lease (a
/// client wanting to program it is refused, naming the run) and every operation goes
/// through the device's actor, in turn with the clients' reads. A pause is the same
/// step-boundary pause as Ctrl-C: device left safe, run checkpointed, status paused.
public actor ServerRunLauncher: RunLauncher {
    let store: RunStore

    /// A run training now: its pause flag, its device and lease, its training task.
    struct Active {
        var pause: PauseFlag
        var device: ServedDevice
        var lease: String
        var work: Task<Void, Never>
    }

    private var active: [Int64: Active] = [:]
    /// Which served device each run started or resumed here trained on.
    private var deviceOf: [Int64: String] = [:]

    /// Trains in `store` (the store the server's Runs service reads).
    public init(store: RunStore) { self.store = store }

    public func start(_ request: RunStartRequest, on device: ServedDevice) async throws -> Int64 {
        var configPath: String?
        if let toml = request.configTOML {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-serve-\(UUID().uuidString).toml")
                .path
            try toml.write(toFile: path, atomically: true, encoding: .utf8)
            configPath = path
        }
        defer { if let configPath { try? FileManager.default.removeItem(atPath: configPath) } }
        let trainRequest = TrainRequest(
            device: device.source, task: request.task, method: request.method, epochs: request.epochs, seed: request.seed,
            configPath: configPath, jacobianRefresh: request.jacobianRefresh)
        let store = self.store
        return try await train(trainRequest, on: device, holder: "a run started over the wire by \(request.holder)") {
            try await TrainingSession.start(plan: $0, trainer: $1, store: store)
        }
    }

    public func pause(run: Int64) async throws {
        guard let running = active[run] else {
            throw RemoteError.notTraining(run: run, status: try store.run(id: run).status.rawValue)
        }
        running.pause.set()
        await running.work.value
    }

    public func resume(run: Int64, epochs: Int?, devices: [ServedDevice]) async throws {
        if active[run] != nil { return }  // already training here
        let record = try store.run(id: run)
        let name = deviceOf[run]
        guard
            let device = devices.first(where: { $0.name == name })
                ?? devices.first(where: { $0.source == record.deviceName })
                ?? devices.first(where: { $0.name == record.deviceName })
        else {
            throw RemoteError.runDeviceNotServed(run: run, device: record.deviceName, served: devices.map(\.name))
        }
        let request = TrainRequest(device: record.deviceName, epochs: epochs, resume: run)
        let store = self.store
        _ = try await train(request, on: device, holder: "run \(run), resumed over the wire") {
            try await TrainingSession.resume(runID: run, trainer: $1, store: store)
        }
    }

    /// Resolves `request` (Jacobian methods only), takes `device`'s lease for `holder`, opens
    /// the session with `session` and launches it; the lease goes back if anything fails.
    private func train(
        _ request: TrainRequest, on device: ServedDevice, holder: String,
        session open: (RunPlan, Trainer) async throws -> TrainingSession
    ) async throws -> Int64 {
        if try request.isContrastive(store: store) {
            throw RemoteError.contrastiveOverTheWire(device: device.name)
        }
        let (plan, _) = try request.jacobianPlan(store: store)
        let lease = try await device.acquire(holder: holder)
        do {
            let session = try await open(plan, try Self.trainer(plan: plan, device: device))
            launch(session, device: device, lease: lease)
            return session.runID
        } catch {
            await device.release(lease)
            throw error
        }
    }

    /// Returns when run `run` is no longer training here (at once if it is not), its
    /// device's lease given back.
    public func wait(run: Int64) async {
        await active[run]?.work.value
    }

    /// Pauses every run training here (at shutdown) and waits for them.
    public func pauseAll() async {
        for running in active.values { running.pause.set() }
        for running in active.values { await running.work.value }
    }

    /// The trainer for `plan` on the served device, its task fitted to the device as `RunPlan.open` does.
    static func trainer(plan: RunPlan, device: ServedDevice) throws -> Trainer {
        let substrate = device.serialised()
        let d = substrate.descriptor
        let probe = try PreparedTask(plan.task, config: plan.trainer, amplitude: 1, seed: plan.seed)
        let prepared = try probe.rescaled(amplitude: plan.trainer.inputAmplitude * d.inputs.upper)
            .fitted(toInputLines: d.inputs.count, device: d.identity.summary)
        return try Trainer(substrate: substrate, method: plan.method, config: plan.trainer, task: prepared)
    }

    private func launch(_ session: TrainingSession, device: ServedDevice, lease: String) {
        let pause = PauseFlag()
        let id = session.runID
        deviceOf[id] = device.name
        let work = Task {
            var s = session
            // The session records how the run stopped (paused, completed, failed) in the store.
            _ = try? await s.run(observer: nil, pauseRequested: { pause.isSet })
            await device.release(lease)
            self.finished(id)
        }
        active[id] = Active(pause: pause, device: device, lease: lease, work: work)
    }

    private func finished(_ id: Int64) { active[id] = nil }
}

/// A pause request, set from any thread and read at the trainer's step boundaries.
final class PauseFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
