import Foundation
import PNNCalibration
import PNNCore
import PNNSim

extension CrossbarFamily {
    public static var twins: [TwinEntry] {
        [
            TwinEntry(
                name: "sim:crossbar",
                summary: "memristor crossbar twin, sized to the task (one input line per encoded feature plus a bias "
                    + "line, one differential output per class); every non-ideality on by default",
                options: [
                    FamilyOption("ideal", .flag, help: "Switch every non-ideality of the twin off."),
                    FamilyOption(
                        "profile", .text(valueName: "ID|FILE"),
                        help: "Imitate a calibrated crossbar: a stored calibration's id (pnnlab calibrate) or a "
                            + "profile file (calibrate --out); the twin takes that board's geometry."),
                    FamilyOption(
                        "rows", .integer(1...4096),
                        help: "Input lines of the array (default: sized to the task), e.g. for a unit served by "
                            + "pnnlab serve."),
                    FamilyOption(
                        "outputs", .integer(1...2048),
                        help: "Differential outputs (column pairs) of the array (default: sized to the task)."),
                ],
                build: buildTwin, exportState: exportTwinState)
        ]
    }

    /// Builds `sim:crossbar`: from an exported state when one is given (the resolved settings
    /// then carry that state), otherwise from the defaults overlaid with the `[twin]` keys,
    /// with rows and outputs sized to the task unless the settings give them.
    static func buildTwin(_ request: TwinRequest) throws -> BuiltTwin {
        let name = "sim:crossbar"
        if let state = request.state ?? request.config?["state"].map({ Data($0.jsonString().utf8) }) {
            let twin = try CrossbarTwin(importing: state)
            var settings: [String: JSONValue] = ["state": try JSONValue(parsing: state)]
            settings["profile"] = request.config?["profile"]  // a resumed run keeps the profile it used
            return BuiltTwin(substrate: twin, config: .object(settings))
        }
        if let document = request.profile {
            guard request.config == nil, !request.options.flag("ideal") else {
                throw TwinError.invalid(
                    twin: name, why: "--profile imitates a calibrated device; it takes no [twin] settings or --ideal")
            }
            return try twin(imitating: document, seed: request.seed)
        }
        let given = request.config ?? .object([:])
        guard case .object(let table) = given else {
            throw TwinError.invalid(twin: name, why: "the [twin] settings must be a table")
        }
        let known = CrossbarConfig.knownKeys
        for key in table.keys.sorted() where !known.contains(key) {
            throw TwinError.unknownSetting(twin: name, key: key)
        }
        var config: CrossbarConfig
        do {
            config = try given.decode(CrossbarConfig.self)
        } catch {
            throw TwinError.invalid(twin: name, why: "[twin] settings could not be read (\(plain(error)))")
        }
        if request.options.flag("ideal") { config = config.idealised() }
        // Sized to the task; with no task (e.g. `pnnlab twin export`), the emulated board's
        // default geometry, which every bundled task's default encoding fits.
        if table["rows"] == nil {
            config.rows = request.options.integer("rows") ?? request.geometry?.inputs ?? defaultRows
        }
        if table["outputs"] == nil {
            config.outputs = request.options.integer("outputs") ?? request.geometry?.outputs ?? defaultOutputs
        }
        if table["seed"] == nil { config.seed = request.seed }
        let physics = try CrossbarPhysics(config: config)
        return BuiltTwin(substrate: CrossbarTwin(physics: physics), config: try JSONValue(encoding: config))
    }

    /// `sim:crossbar --profile`: the twin of a calibrated crossbar (its geometry, every
    /// device's window, steps and conductance, stuck devices, column ADCs, read and write
    /// noise). The resolved settings are the twin's full state plus which profile it came
    /// from, so the run records the profile it used and resumes on the same twin.
    static func twin(imitating document: JSONValue, seed: UInt64) throws -> BuiltTwin {
        let name = "sim:crossbar"
        let profile = try CalibrationProfile.forTwin(
            document, twin: name, family: family, procedure: CrossbarCalibration().name)
        let result = try profile.twinPayload(CrossbarCalibrationResult.self, twin: name)
        let physics = try result.twinPhysics(noise: true, seed: seed)
        let source = profile.twinSource(extra: ["twin_fidelity": .number(result.twinFidelity)])
        return BuiltTwin(
            substrate: CrossbarTwin(physics: physics),
            config: .object(["state": try JSONValue(parsing: try physics.exportState()), "profile": source]))
    }

    static func exportTwinState(_ substrate: any Substrate) async throws -> Data {
        guard let twin = substrate as? CrossbarTwin else { throw TwinError.notThisTwin("sim:crossbar") }
        return try await twin.exportState()
    }

    static func plain(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "wrong value at twin." + c.codingPath.map(\.stringValue).joined(separator: ".")
        case .keyNotFound(let k, _): return "missing twin.\(k.stringValue)"
        @unknown default: return "unreadable"
        }
    }
}

extension CrossbarConfig {
    /// Every key a `[twin]` table of `sim:crossbar` may contain.
    public static var knownKeys: Set<String> {
        var probe = CrossbarConfig()
        probe.initialConductance = 1
        probe.fullScale = 1
        probe.dacBits = 8
        probe.adcBits = 8
        guard let data = try? JSONEncoder().encode(probe),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [] }
        return Set(object.keys)
    }
}
