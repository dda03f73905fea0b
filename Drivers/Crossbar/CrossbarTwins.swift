import Foundation
import PNNCore
import PNNSim

extension CrossbarFamily {
    public static var twins: [TwinEntry] {
        [
            TwinEntry(
                name: "sim:crossbar",
                summary: "memristor crossbar twin, sized to the task (one input line per encoded feature plus a bias "
                    + "line, one differential output per class); every non-ideality on by default",
                options: [FamilyOption("ideal", .flag, help: "Switch every non-ideality of the twin off.")],
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
            return BuiltTwin(substrate: twin, config: .object(["state": try JSONValue(parsing: state)]))
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
        if table["rows"] == nil { config.rows = request.geometry?.inputs ?? defaultRows }
        if table["outputs"] == nil { config.outputs = request.geometry?.outputs ?? defaultOutputs }
        if table["seed"] == nil { config.seed = request.seed }
        let physics = try CrossbarPhysics(config: config)
        return BuiltTwin(substrate: CrossbarTwin(physics: physics), config: try JSONValue(encoding: config))
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
