import Foundation
import PNNCalibration
import PNNCore
import PNNSim

/// Settings of the family's simulated devices (`sim:clln`, `sim:resistor`), stored with a
/// run so `--resume` rebuilds the same twin without the graph file.
public struct CLLNTwinSettings: Sendable, Codable, Equatable {
    /// The network wiring.
    public var topology: NetworkTopology
    /// Per-edge learning bias B on (the board's imperfection) or off (an ideal rule).
    public var bias: Bool
    /// Node read noise, V rms.
    public var readNoise: Double
    /// A complete exported twin state to start from (`--twin-state FILE`, or the state built
    /// from a calibration profile); overrides the rest.
    public var state: CLLNState?
    /// The calibration profile the twin imitates (`--profile`): device, procedure, date and
    /// measured twin fidelity; nil for a twin built from defaults.
    public var profile: JSONValue?

    public init(
        topology: NetworkTopology, bias: Bool = true, readNoise: Double = 0, state: CLLNState? = nil,
        profile: JSONValue? = nil
    ) {
        self.topology = topology
        self.bias = bias
        self.readNoise = readNoise
        self.state = state
        self.profile = profile
    }
}

extension CLLNFamily {
    public static var twins: [TwinEntry] {
        let graph = FamilyOption(
            "graph", .text(valueName: "GRAPH"),
            help: "Wiring: lattice (4×4 periodic, default), two-plus-one, or a NetworkTopology JSON file.")
        return [
            TwinEntry(
                name: "sim:clln",
                summary: "contrastive local learning network twin: MOSFET edges, on-board learning rule with "
                    + "per-edge A0 spread and bias B",
                options: [
                    graph,
                    FamilyOption("no-bias", .flag, help: "Switch the per-edge learning bias B off (an ideal learning rule)."),
                    FamilyOption(
                        "profile", .text(valueName: "ID|FILE"),
                        help: "Imitate a calibrated CLLN board: a stored calibration's id (pnnlab calibrate) or a "
                            + "profile file (calibrate --out); the twin takes that board's wiring, gates, A0 and B."),
                ],
                build: buildCLLN, exportState: exportCLLN),
            TwinEntry(
                name: "sim:resistor",
                summary: "linear resistor network: clampable with node readout but no learning rule "
                    + "(the host computes the coupled-learning update)",
                options: [graph],
                build: buildResistor,
                exportState: { _ in
                    throw TwinError.invalid(twin: "sim:resistor", why: "a resistor network twin has no state file to export")
                }),
        ]
    }

    /// The settings a request resolves to (stored settings win; then a state file; then options).
    static func settings(_ request: TwinRequest, name: String) throws -> CLLNTwinSettings {
        if let state = request.state {
            let s = try CLLNState.importJSON(state)
            return CLLNTwinSettings(topology: s.topology, bias: true, state: s)
        }
        if let config = request.config, config != .object([:]) {
            if config["topology"] != nil {
                do {
                    return try config.decode(CLLNTwinSettings.self)
                } catch {
                    throw TwinError.invalid(twin: name, why: "stored twin settings could not be read")
                }
            }
            for key in config.keys where !["graph", "bias", "read_noise"].contains(key) {
                throw TwinError.unknownSetting(twin: name, key: key)
            }
            var graphName: String?
            if case .string(let g) = config["graph"] { graphName = g }
            var bias = true
            if case .bool(let b) = config["bias"] { bias = b }
            var noise = 0.0
            if case .number(let x) = config["read_noise"] {
                guard x.isFinite, x >= 0, x <= 1 else {
                    throw TwinError.invalid(twin: name, why: "twin.read_noise must be between 0 and 1 V")
                }
                noise = x
            }
            return CLLNTwinSettings(
                topology: try topology(named: request.options.text("graph") ?? graphName),
                bias: bias && !request.options.flag("no-bias"), readNoise: noise)
        }
        return CLLNTwinSettings(
            topology: try topology(named: request.options.text("graph")), bias: !request.options.flag("no-bias"))
    }

    static func buildCLLN(_ request: TwinRequest) throws -> BuiltTwin {
        // Stored settings (a resumed run) rebuild the twin they recorded, profile noted.
        if let document = request.profile, request.config?["topology"] == nil {
            return try twin(imitating: document, request: request)
        }
        let s = try settings(request, name: "sim:clln")
        let twin: CLLNTwin
        if let state = s.state {
            twin = try CLLNTwin(state: state, serial: "sim-\(request.seed)", seed: request.seed)
        } else {
            var physics = CLLNPhysics()
            if !s.bias { physics.biasScale = 0 }
            physics.readNoise = s.readNoise
            twin = try CLLNTwin(topology: s.topology, physics: physics, seed: request.seed)
        }
        return BuiltTwin(substrate: twin, config: try JSONValue(encoding: s))
    }

    /// `sim:clln --profile`: the twin of a calibrated board (its wiring, gates, per-edge A0
    /// and B, read noise; ``CLLNCalibrationResult/twinState(readNoise:nominal:)``). The
    /// resolved settings hold that state and which profile it came from, so the run records
    /// the profile it used and resumes on the same twin.
    static func twin(imitating document: JSONValue, request: TwinRequest) throws -> BuiltTwin {
        let name = "sim:clln"
        guard request.config == nil, request.state == nil, request.options.text("graph") == nil,
            !request.options.flag("no-bias")
        else {
            throw TwinError.invalid(
                twin: name,
                why: "--profile imitates a calibrated board; it takes no [twin] settings, --twin-state, --graph or --no-bias")
        }
        let profile = try CalibrationProfile.forTwin(
            document, twin: name, family: family, procedure: CLLNCalibration().name)
        let result = try profile.twinPayload(CLLNCalibrationResult.self, twin: name)
        let state: CLLNState
        do {
            state = try result.twinState(readNoise: result.outputNoise ?? 0)
        } catch {
            throw TwinError.invalid(twin: name, why: error.description)
        }
        let source = profile.twinSource(extra: result.twinFidelity.map { ["twin_fidelity": .number($0)] } ?? [:])
        let settings = CLLNTwinSettings(topology: state.topology, state: state, profile: source)
        let twin = try CLLNTwin(state: state, serial: "sim-\(request.seed)", seed: request.seed)
        return BuiltTwin(substrate: twin, config: try JSONValue(encoding: settings))
    }

    static func buildResistor(_ request: TwinRequest) throws -> BuiltTwin {
        guard request.state == nil else {
            throw TwinError.invalid(twin: "sim:resistor", why: "it has no exported state to start from")
        }
        let s = try settings(request, name: "sim:resistor")
        let twin = try ResistorNetworkTwin(topology: s.topology, seed: request.seed, conductanceRange: 1e-4...3e-3)
        return BuiltTwin(substrate: twin, config: try JSONValue(encoding: s))
    }

    static func exportCLLN(_ substrate: any Substrate) async throws -> Data {
        guard let twin = substrate as? CLLNTwin else { throw TwinError.notThisTwin("sim:clln") }
        return await twin.exportState().exportJSON()
    }

    public static var calibration: (any CalibrationProcedure)? { CLLNCalibration() }

    /// A twin's state, or an emulated board's state read through its debug verb.
    public static func hiddenTruth(of substrate: any Substrate) async throws -> Data? {
        if let twin = substrate as? CLLNTwin { return await twin.exportState().exportJSON() }
        if let board = substrate as? CLLNBoard, board.isEmulator { return Data(try await board.emulatorStateJSON()) }
        return nil
    }
}
