import Foundation
import PNNCore
import PNNDevices
import PNNStore
import PNNTraining

/// A run's device opened and its task encoded for it.
public struct OpenedRun: Sendable {
    /// The substrate to train.
    public var device: DeviceCatalog.Opened
    /// The task encoded for the device's input range and line count (Jacobian trainers).
    public var task: PreparedTask
    public var substrate: any Substrate { device.substrate }
}

/// Twin settings given on the command line, for `sim:` devices.
public struct TwinArguments: Sendable {
    /// The twin's own options as words (`--graph lattice`).
    public var optionWords: [String]
    /// `--twin-state FILE`, read.
    public var state: Data?

    public init(optionWords: [String] = [], state: Data? = nil) {
        self.optionWords = optionWords
        self.state = state
    }

    /// Largest twin state file read (a 4096 × 4096 crossbar's state is well below it).
    public static let maxStateBytes = 256 << 20

    /// Reads `--twin-state FILE` after checking its size.
    public static func readState(_ path: String) throws(RunError) -> Data {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw .unreadable(path: path, why: "no such file")
        }
        if (attributes[.type] as? FileAttributeType) == .typeDirectory { throw .unreadable(path: path, why: "it is a directory") }
        if let size = attributes[.size] as? Int, size > maxStateBytes {
            throw .unreadable(path: path, why: "it is \(size) bytes; a twin state is at most \(maxStateBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, why: "permission denied")
        }
        return data
    }
}

extension RunPlan {
    /// Opens the plan's device and prepares the task for it. A new run's twin is sized to
    /// the task; a resumed run's twin is rebuilt from the settings the run recorded.
    public func open(
        twinArguments: TwinArguments = .init(), configTwin: JSONValue? = nil, store: RunStore? = nil,
        reconnectGrace: Double = 15, registry: FamilyRegistry = .standard, recordTo record: String? = nil
    ) async throws -> OpenedRun {
        let probe = try PreparedTask(task, config: trainer, amplitude: 1, seed: seed)
        let inputs = DeviceCatalog.TwinInputs(
            seed: seed, config: configTwin, stored: twin, optionWords: twinArguments.optionWords, state: twinArguments.state,
            geometry: TwinGeometry(inputs: probe.encoder.inputCount, outputs: probe.classCount, task: task.rawValue))
        let opened = try await DeviceCatalog.open(
            device, twin: inputs, baud: baud ?? 115_200, store: store, reconnectGrace: reconnectGrace, registry: registry,
            recordTo: record)
        let d = opened.substrate.descriptor
        let amplitude = trainer.inputAmplitude * d.inputs.upper
        let prepared = try probe.rescaled(amplitude: amplitude).fitted(toInputLines: d.inputs.count, device: d.identity.summary)
        return OpenedRun(device: opened, task: prepared)
    }
}

/// A contrastive run's device opened, checked for the capabilities the method needs, and
/// its task encoded for the device's wiring.
public struct OpenedContrastiveRun: Sendable {
    public var device: DeviceCatalog.Opened
    public var dataset: ContrastiveDataset
    /// Samples evaluated but never learned from (Iris's test split), or nil.
    public var heldOut: HeldOutSplit?
    public var substrate: any Substrate { device.substrate }
}

extension ContrastivePlan {
    /// Opens the plan's device: it must be clampable and expose its wiring.
    public func open(
        twinArguments: TwinArguments = .init(), configTwin: JSONValue? = nil, store: RunStore? = nil,
        reconnectGrace: Double = 15, registry: FamilyRegistry = .standard, recordTo record: String? = nil
    ) async throws -> OpenedContrastiveRun {
        var geometry: TwinGeometry?
        if task.name == .iris {
            let probe = try PreparedTask(.iris, config: TrainerConfig(), amplitude: 1, seed: seed)
            geometry = TwinGeometry(inputs: probe.encoder.inputCount, outputs: probe.classCount)
        }
        let inputs = DeviceCatalog.TwinInputs(
            seed: seed, config: configTwin, stored: twin, optionWords: twinArguments.optionWords, state: twinArguments.state,
            geometry: geometry)
        let opened = try await DeviceCatalog.open(
            device, twin: inputs, baud: baud ?? 115_200, store: store, reconnectGrace: reconnectGrace, registry: registry,
            recordTo: record)
        let substrate = opened.substrate
        do {
            _ = try substrate.require(.clampable, as: (any Clampable).self, for: "--method \(schedule.method.rawValue)")
            if task.name == .iris {
                let (dataset, heldOut) = try ContrastiveTasks.iris(seed: seed, descriptor: substrate.descriptor)
                return OpenedContrastiveRun(device: opened, dataset: dataset, heldOut: heldOut)
            }
            let wiring = try substrate.require(
                .nodeReadout, as: (any NodeReadout).self, for: "task '\(task.name.rawValue)' (it needs the device's wiring)")
            let dataset = try ContrastiveTasks.dataset(task, topology: wiring.topology)
            return OpenedContrastiveRun(device: opened, dataset: dataset)
        } catch {
            await opened.connected?.connection.close()
            throw error
        }
    }
}
