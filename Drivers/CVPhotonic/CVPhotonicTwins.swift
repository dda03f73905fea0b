import Foundation
import PNNCore
import PNNSim

extension CVPhotonicFamily {
    public static var twins: [TwinEntry] {
        [
            TwinEntry(
                name: "sim:cv-photonic",
                summary: "continuous-variable photonic circuit (Gaussian states, ħ = 2, xxpp): inputs displace modes, "
                    + "a mesh of beam splitters and phase shifters with trainable angles, loss, x homodyne with shot "
                    + "noise; sized to the task (one mode per input line, a readout mode per class)",
                options: [
                    FamilyOption("ideal", .flag, help: "Exact ⟨x⟩ reads (no shot noise) and no loss."),
                    FamilyOption("shots", .integer(1...100_000_000), help: "Homodyne shots per read (default 1000)."),
                    FamilyOption(
                        "multiplier", .flag,
                        help: "Seed 000's squeezing multiplier: input line 0 sets the squeezing, the others displace "
                            + "(the default for --task multiply; [twin] layout = \"multiplier\")."),
                ],
                build: buildTwin, exportState: exportTwinState)
        ]
    }

    /// Builds `sim:cv-photonic`: from an exported state when one is given, otherwise from the
    /// defaults overlaid with the `[twin]` keys and the options, sized to the task.
    static func buildTwin(_ request: TwinRequest) throws -> BuiltTwin {
        let name = "sim:cv-photonic"
        if let state = request.state ?? request.config?["state"].map({ Data($0.jsonString().utf8) }) {
            let twin = try CVPhotonicTwin(importing: state)
            return BuiltTwin(substrate: twin, config: .object(["state": try JSONValue(parsing: state)]))
        }
        let given = request.config ?? .object([:])
        guard case .object(let table) = given else {
            throw TwinError.invalid(twin: name, why: "the [twin] settings must be a table")
        }
        for key in table.keys.sorted() where !CVPhotonicConfig.knownKeys.contains(key) {
            throw TwinError.unknownSetting(twin: name, key: key)
        }
        var config: CVPhotonicConfig
        do {
            config = try given.decode(CVPhotonicConfig.self)
        } catch {
            throw TwinError.invalid(twin: name, why: "[twin] settings could not be read (\(error))")
        }
        if table["inputs"] == nil { config.inputs = request.geometry?.inputs ?? config.inputs }
        if table["readouts"] == nil { config.readouts = request.geometry?.outputs ?? config.readouts }
        if table["seed"] == nil { config.seed = request.seed }
        if table["layout"] == nil && (request.options.flag("multiplier") || request.geometry?.task == "multiply") {
            config.layout = .multiplier
        }
        if let shots = request.options.integer("shots") { config.shots = shots }
        if request.options.flag("ideal") {
            config.exactMeans = true
            config.transmission = 1
        }
        let twin = try CVPhotonicTwin(config: config)
        return BuiltTwin(substrate: twin, config: try JSONValue(encoding: config))
    }

    static func exportTwinState(_ substrate: any Substrate) async throws -> Data {
        guard let twin = substrate as? CVPhotonicTwin else { throw TwinError.notThisTwin("sim:cv-photonic") }
        return try await twin.exportState()
    }
}
