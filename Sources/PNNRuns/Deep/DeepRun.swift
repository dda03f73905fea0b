import Foundation
import PNNCore
import PNNDevices
import PNNStore
import PNNTraining

/// A deep run's units opened (one device each), their models found, and the task encoded
/// for the first unit.
public struct OpenedDeepRun: Sendable {
    public var devices: [DeviceCatalog.Opened]
    public var models: [any SubstrateModel]
    /// The models the units train through: `models`, or for a unit with a `--model-profile`
    /// the model built from that calibration.
    public var trainingModels: [any SubstrateModel]
    public var task: PreparedTask
    public var units: [any Substrate] { devices.map(\.substrate) }
    /// The twins built, in unit order (nil for a board).
    public var twins: [TwinSpec]? {
        let t = devices.compactMap(\.twin)
        return t.count == devices.count ? t : nil
    }
}

extension DeepPlan {
    /// Opens one device per unit: for a `sim:` DEVICE one twin per unit, sized to the unit
    /// (input lines = previous width + bias line) and seeded with `unitSeed(ℓ)`, or rebuilt
    /// from the twins a resumed run recorded; a board only for a one-unit cascade (several
    /// units on one array would need tiling, which is not built); with a comma-separated
    /// DEVICE list, unit ℓ on the ℓ-th (twins, boards and `remote://` devices mixed). Twins
    /// are asked for exactly the unit's width of outputs (`TwinGeometry.exactOutputs`). Every
    /// unit's family must provide a differentiable model of it (`DeviceFamilyDriver.model(of:)`).
    public func open(
        twinOptionWords: [String] = [], store: RunStore? = nil, reconnectGrace: Double = 15,
        registry: FamilyRegistry = .standard
    ) async throws -> OpenedDeepRun {
        let probe = try PreparedTask(task, config: trainer, amplitude: 1, seed: seed)
        let devicePerUnit = unitDevices
        let shared = devicePerUnit.enumerated().first { l, d in
            !d.hasPrefix("sim:") && devicePerUnit[..<l].contains(d)
        }?.element
        if let shared {
            throw RunError.invalid(
                "\(shared) is one device and --layers \(layers.map(String.init).joined(separator: ",")) asks for \(layers.count) units: "
                    + "each unit needs its own device (tiling several units onto one array is not built); train one unit on it "
                    + "(--layers \(layers.last ?? 1)), list one device per unit (DEVICE1,DEVICE2,…) or use a twin (sim:…), "
                    + "which gets one twin per unit")
        }
        if let units, units.count != layers.count {
            throw RunError.invalid("the run recorded \(units.count) twins for \(layers.count) units")
        }
        var devices: [DeviceCatalog.Opened] = []
        var models: [any SubstrateModel] = []
        do {
            for l in layers.indices {
                let lines = l == 0 ? probe.encoder.inputCount : layers[l - 1] + 1
                let inputs = DeviceCatalog.TwinInputs(
                    seed: unitSeed(l), stored: units?[l], optionWords: twinOptionWords,
                    geometry: TwinGeometry(inputs: lines, outputs: layers[l], exactOutputs: true))
                let opened = try await DeviceCatalog.open(
                    devicePerUnit[l], twin: inputs, baud: baud ?? 115_200, store: store, reconnectGrace: reconnectGrace,
                    registry: registry)
                devices.append(opened)
                let found: (any SubstrateModel)?
                do {
                    found = try await opened.family.model(of: opened.substrate)
                } catch {
                    throw RunError.invalid(
                        "--method \(method.rawValue) needs a differentiable model of unit \(l + 1) (\(devicePerUnit[l])): \(error)"
                    )
                }
                guard let model = found else {
                    throw RunError.invalid(
                        "--method \(method.rawValue) needs the \(opened.family.family) family's differentiable model "
                            + "(a vector–Jacobian product), and that family provides none")
                }
                if l > 0, !model.inputsDifferentiable, method == .pat || method == .inSilico {
                    throw RunError.invalid(
                        "--method \(method.rawValue) backpropagates through unit \(l + 1)'s inputs, and its model has no input "
                            + "derivative (binary-amplitude inputs are a step); use --method dfa or pib, or phase inputs")
                }
                models.append(model)
            }
        } catch {
            for d in devices { await d.connected?.connection.close() }
            throw error
        }
        do {
            try await applyFaults(to: devices.map(\.substrate))
        } catch {
            for d in devices { await d.connected?.connection.close() }
            throw error
        }
        let trained: [any SubstrateModel]
        do {
            trained = try trainingModels(devices: devices, ideal: models)
        } catch {
            for d in devices { await d.connected?.connection.close() }
            throw error
        }
        let d = devices[0].substrate.descriptor
        let amplitude = trainer.inputAmplitude * d.inputs.upper
        let prepared = try probe.rescaled(amplitude: amplitude).fitted(toInputLines: d.inputs.count, device: d.identity.summary)
        return OpenedDeepRun(devices: devices, models: models, trainingModels: trained, task: prepared)
    }
}
