import Foundation
import PNNCore
import PNNDevices
import PNNStore
import PNNTraining

/// A deep run's units opened (one device each, or one per tile for a tiled unit), their
/// models found, and the task encoded for the first unit.
public struct OpenedDeepRun: Sendable {
    /// Every array opened, unit by unit, tile by tile.
    public var devices: [DeviceCatalog.Opened]
    /// What the trainer drives: each unit's device, or its `TiledSubstrate`.
    public var units: [any Substrate]
    public var models: [any SubstrateModel]
    /// The models the units train through: `models`, or for a unit with a `--model-profile`
    /// the model built from that calibration.
    public var trainingModels: [any SubstrateModel]
    public var task: PreparedTask
    /// The twins built, in array order (nil for a board).
    public var twins: [TwinSpec]? {
        let t = devices.compactMap(\.twin)
        return t.count == devices.count ? t : nil
    }
}

extension DeepPlan {
    /// Opens one device per array: each unit is one array, or with `tiling` one per tile.
    /// For a `sim:` DEVICE one twin per array, sized to its block (input lines = previous
    /// width + bias line) and seeded with `tileSeed(unit:tile:)`, or rebuilt from the twins
    /// a resumed run recorded; a board only for a one-unit untiled cascade; with a
    /// comma-separated DEVICE list, one entry per array (per unit untiled, per tile with a
    /// tiling, unit by unit; twins, boards and `remote://` devices mixed), each checked against
    /// its block's size. Every family must provide a differentiable model
    /// (`DeviceFamilyDriver.model(of:)`); twins are asked for exactly their block's width of
    /// outputs (`TwinGeometry.exactOutputs`); a tiled unit becomes one `TiledSubstrate` with a
    /// `TiledModel`.
    public func open(
        twinOptionWords: [String] = [], store: RunStore? = nil, reconnectGrace: Double = 15,
        registry: FamilyRegistry = .standard
    ) async throws -> OpenedDeepRun {
        let probe = try PreparedTask(task, config: trainer, amplitude: 1, seed: seed)
        let layouts = layers.indices.map { l in
            layout(unit: l, inputLines: l == 0 ? probe.encoder.inputCount : layers[l - 1] + 1)
        }
        let arrays = layouts.map(\.tileCount).reduce(0, +)
        let listed = listedDevices
        let tiled = arrays > layers.count
        if listed.count > 1 && listed.count != arrays {
            let plan = layouts.enumerated().map { l, t in "unit \(l + 1): \(t.summary)" }.joined(separator: "; ")
            throw RunError.invalid(
                "DEVICE lists \(listed.count) devices and the cascade needs \(arrays) arrays (\(plan)): give one per \(tiled ? "tile, unit by unit" : "unit")"
            )
        }
        let perArray = listed.count > 1 ? listed : [String](repeating: device, count: arrays)
        let shared = perArray.enumerated().first { k, d in !d.hasPrefix("sim:") && perArray[..<k].contains(d) }?.element
        if let shared {
            throw RunError.invalid(
                "\(shared) is one device and --layers \(layers.map(String.init).joined(separator: ",")) asks for \(arrays) arrays: "
                    + "each unit\(tiled ? " and each tile" : "") needs its own device (several units or tiles on one array are not built); "
                    + "list one device per \(tiled ? "tile" : "unit") (DEVICE1,DEVICE2,…) or use a twin (sim:…), which gets one twin per array"
            )
        }
        if let units, units.count != arrays {
            throw RunError.invalid("the run recorded \(units.count) twins for \(arrays) arrays")
        }
        var devices: [DeviceCatalog.Opened] = []
        var substrates: [any Substrate] = []
        var models: [any SubstrateModel] = []
        do {
            for l in layers.indices {
                let layout = layouts[l]
                var tiles: [any Substrate] = []
                var tileModels: [any SubstrateModel] = []
                for k in 0..<layout.tileCount {
                    let block = layout.tile(k)
                    let a = devices.count
                    let inputs = DeviceCatalog.TwinInputs(
                        seed: tileSeed(unit: l, tile: k), stored: units?[a], optionWords: twinOptionWords,
                        geometry: TwinGeometry(inputs: block.rows.count, outputs: block.cols.count, exactOutputs: true))
                    let opened = try await DeviceCatalog.open(
                        perArray[a], twin: inputs, baud: baud ?? 115_200, store: store, reconnectGrace: reconnectGrace,
                        registry: registry)
                    devices.append(opened)
                    let d = opened.substrate.descriptor
                    if layout.tileCount > 1 && (d.inputs.count != block.rows.count || d.outputs.count != block.cols.count) {
                        throw RunError.invalid(
                            "tile \(k + 1) of unit \(l + 1) needs \(block.rows.count) input lines and \(block.cols.count) outputs; \(perArray[a]) (\(d.identity.summary)) has \(d.inputs.count) and \(d.outputs.count)"
                        )
                    }
                    let found: (any SubstrateModel)?
                    do {
                        found = try await opened.family.model(of: opened.substrate)
                    } catch {
                        throw RunError.invalid(
                            "--method \(method.rawValue) needs a differentiable model of unit \(l + 1) (\(perArray[a])): \(error)"
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
                    tiles.append(opened.substrate)
                    tileModels.append(model)
                }
                if layout.tileCount == 1 {
                    substrates.append(tiles[0])
                    models.append(tileModels[0])
                } else {
                    substrates.append(try TiledSubstrate(layout: layout, tiles: tiles))
                    models.append(try TiledModel(layout: layout, tiles: tileModels))
                }
            }
        } catch {
            for d in devices { await d.connected?.connection.close() }
            throw error
        }
        do {
            try await applyFaults(to: substrates)
        } catch {
            for d in devices { await d.connected?.connection.close() }
            throw error
        }
        let trained: [any SubstrateModel]
        do {
            trained = try trainingModels(devices: devices, tileCounts: layouts.map(\.tileCount), ideal: models)
        } catch {
            for d in devices { await d.connected?.connection.close() }
            throw error
        }
        let d = substrates[0].descriptor
        let amplitude = trainer.inputAmplitude * d.inputs.upper
        let prepared = try probe.rescaled(amplitude: amplitude).fitted(toInputLines: d.inputs.count, device: d.identity.summary)
        return OpenedDeepRun(devices: devices, units: substrates, models: models, trainingModels: trained, task: prepared)
    }
}
