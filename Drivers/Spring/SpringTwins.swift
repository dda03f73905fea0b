import Foundation
import PNNCore
import PNNSim

extension SpringFamily {
    public static var twins: [TwinEntry] {
        [
            TwinEntry(
                name: "sim:spring",
                summary: "2D linear spring network (K = Aᵀ diag(k) A, fixed bottom row): trainable bond stiffnesses, "
                    + "input forces on nodes of the top rows, output displacements with read noise; a seeded diluted triangular "
                    + "lattice sized to the task, or --graph FILE",
                options: [
                    FamilyOption("ideal", .flag, help: "No read noise."),
                    FamilyOption(
                        "graph", .text(valueName: "FILE"), help: "Spring graph JSON (nodes, bonds, fixed, inputs, outputs)."),
                    FamilyOption("lattice", .text(valueName: "WxH"), help: "Generated lattice size WxH (default 12x6)."),
                    FamilyOption("dilution", .number(0...0.49), help: "Fraction of lattice bonds removed (default 0.1)."),
                    FamilyOption("noise", .number(0...1000), help: "Read noise s.d. of a displacement (default 1e-4)."),
                    FamilyOption(
                        "input-mode", .text(valueName: "force|displacement"),
                        help: "Inputs as forces (default) or imposed displacements."),
                ],
                build: buildTwin, exportState: exportTwinState)
        ]
    }

    /// Builds `sim:spring`: from an exported state when one is given, otherwise from the
    /// defaults overlaid with the `[twin]` keys and the options, sized to the task.
    static func buildTwin(_ request: TwinRequest) throws -> BuiltTwin {
        let name = "sim:spring"
        if let state = request.state ?? request.config?["state"].map({ Data($0.jsonString().utf8) }) {
            let twin = try SpringTwin(importing: state)
            return BuiltTwin(substrate: twin, config: .object(["state": try JSONValue(parsing: state)]))
        }
        let given = request.config ?? .object([:])
        guard case .object(let table) = given else {
            throw TwinError.invalid(twin: name, why: "the [twin] settings must be a table")
        }
        for key in table.keys.sorted() where !SpringConfig.knownKeys.contains(key) {
            throw TwinError.unknownSetting(twin: name, key: key)
        }
        var config: SpringConfig
        do {
            config = try given.decode(SpringConfig.self)
        } catch {
            throw TwinError.invalid(twin: name, why: "[twin] settings could not be read (\(error))")
        }
        if table["inputs"] == nil { config.inputs = request.geometry?.inputs ?? config.inputs }
        if table["outputs"] == nil { config.outputs = request.geometry?.outputs ?? config.outputs }
        if table["seed"] == nil { config.seed = request.seed }
        if let path = request.options.text("graph") { config.graph = try SpringGraph.load(path: path) }
        if let size = request.options.text("lattice") {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2 else {
                throw TwinError.invalid(twin: name, why: "--lattice takes WxH, e.g. 8x6 (got '\(size)')")
            }
            config.width = parts[0]
            config.height = parts[1]
        }
        if let d = request.options.number("dilution") { config.dilution = d }
        if let n = request.options.number("noise") { config.noise = n }
        if let mode = request.options.text("input-mode") {
            guard let m = SpringConfig.InputMode(rawValue: mode) else {
                throw TwinError.invalid(twin: name, why: "--input-mode takes force or displacement (got '\(mode)')")
            }
            config.inputMode = m
        }
        if request.options.flag("ideal") { config.noise = 0 }
        if let graph = config.graph, let geometry = request.geometry,
            graph.inputs.count != geometry.inputs || graph.outputs.count != geometry.outputs
        {
            throw TwinError.invalid(
                twin: name,
                why: "the graph has \(graph.inputs.count) inputs and \(graph.outputs.count) outputs; the task needs "
                    + "\(geometry.inputs) inputs (bias line included) and \(geometry.outputs) outputs")
        }
        let twin = try SpringTwin(config: config)
        return BuiltTwin(substrate: twin, config: try JSONValue(encoding: twin.config))
    }

    static func exportTwinState(_ substrate: any Substrate) async throws -> Data {
        guard let twin = substrate as? SpringTwin else { throw TwinError.notThisTwin("sim:spring") }
        return try await twin.exportState()
    }
}
