import Foundation

/// How many input lines and outputs a task needs, so a twin can be sized to it.
public struct TwinGeometry: Sendable, Codable, Equatable {
    public var inputs: Int
    public var outputs: Int
    /// The task's name (`TaskName`'s raw value), for a twin whose circuit depends on the
    /// task (`sim:cv-photonic` builds its multiplier for `multiply`); nil when unknown.
    public var task: String? = nil
    /// True for a unit of a deep cascade, which must give exactly `outputs` outputs: a family
    /// whose outputs are otherwise a fixed set of features (the optics camera's ROI) sizes
    /// them to `outputs`. False: `outputs` is the task's class count, a hint.
    public var exactOutputs: Bool = false

    public init(inputs: Int, outputs: Int, task: String? = nil, exactOutputs: Bool = false) {
        self.inputs = inputs
        self.outputs = outputs
        self.task = task
        self.exactOutputs = exactOutputs
    }

    enum CodingKeys: String, CodingKey {
        case inputs, outputs, task, exactOutputs
    }

    /// Decodes a geometry; one written before `exactOutputs` existed reads as false.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputs = try c.decode(Int.self, forKey: .inputs)
        outputs = try c.decode(Int.self, forKey: .outputs)
        task = try c.decodeIfPresent(String.self, forKey: .task)
        exactOutputs = try c.decodeIfPresent(Bool.self, forKey: .exactOutputs) ?? false
    }
}

/// What building a `sim:` twin may be given: every field is optional except the seed, and
/// the family decides what it uses.
public struct TwinRequest: Sendable {
    /// Seed of the twin's spreads and noise.
    public var seed: UInt64
    /// Family-specific settings: a config file's `[twin]` table, or the resolved settings a
    /// stored run recorded (which rebuild exactly the same twin).
    public var config: JSONValue?
    /// Command-line twin options, parsed against the entry's declared options.
    public var options: FamilyOptionValues
    /// An exported twin state to start from (`--twin-state FILE`); overrides the rest.
    public var state: Data?
    /// What the task needs, when a twin is sized to its task.
    public var geometry: TwinGeometry?
    /// A calibration profile document (the JSON `pnnlab calibrate` stores) the twin is to
    /// imitate: given by a twin option named `profile` (a stored calibration's id or a
    /// profile file), which the device catalog resolves; nil otherwise.
    public var profile: JSONValue?

    public init(
        seed: UInt64, config: JSONValue? = nil, options: FamilyOptionValues = .init(), state: Data? = nil,
        geometry: TwinGeometry? = nil, profile: JSONValue? = nil
    ) {
        self.seed = seed
        self.config = config
        self.options = options
        self.state = state
        self.geometry = geometry
        self.profile = profile
    }
}

/// A twin built from a request: the substrate and the resolved settings that rebuild it.
public struct BuiltTwin: Sendable {
    public var substrate: any Substrate
    /// Everything needed to build the same twin again (stored with the run).
    public var config: JSONValue

    public init(substrate: any Substrate, config: JSONValue) {
        self.substrate = substrate
        self.config = config
    }
}

/// One `sim:` device a family offers (`sim:crossbar`, `sim:clln`, `sim:resistor`).
public struct TwinEntry: Sendable {
    /// The DEVICE name, starting with `sim:`.
    public var name: String
    /// One line for help listings.
    public var summary: String
    /// Command-line options the twin takes (`--graph FILE`, `--no-bias`).
    public var options: [FamilyOption]
    /// Builds the twin.
    public var build: @Sendable (TwinRequest) throws -> BuiltTwin
    /// Exports a twin built by `build` as JSON (the state a run starts from, checkable outside pnnlab).
    public var exportState: @Sendable (any Substrate) async throws -> Data

    public init(
        name: String, summary: String, options: [FamilyOption] = [],
        build: @escaping @Sendable (TwinRequest) throws -> BuiltTwin,
        exportState: @escaping @Sendable (any Substrate) async throws -> Data
    ) {
        self.name = name
        self.summary = summary
        self.options = options
        self.build = build
        self.exportState = exportState
    }
}

/// Why a twin could not be built from its settings.
public enum TwinError: Error, Equatable, CustomStringConvertible {
    /// A settings key the twin does not know (a typo must never train with a default).
    case unknownSetting(twin: String, key: String)
    /// Settings that cannot be used, in words.
    case invalid(twin: String, why: String)
    /// A substrate handed to `exportState` that this entry did not build.
    case notThisTwin(String)

    public var description: String {
        switch self {
        case .unknownSetting(let twin, let key): "unknown key twin.\(key) for \(twin)"
        case .invalid(let twin, let why): "\(twin): \(why)"
        case .notThisTwin(let name): "the device is not a \(name) twin, so it has no state to export"
        }
    }
}

/// Which twin a run used and the resolved settings that rebuild it exactly: stored in the
/// run's plan as family name + JSON, never as a family's own type.
public struct TwinSpec: Sendable, Codable, Equatable {
    /// Family name (`crossbar`).
    public var family: String
    /// DEVICE name (`sim:crossbar`).
    public var name: String
    /// The twin's resolved settings.
    public var config: JSONValue

    public init(family: String, name: String, config: JSONValue) {
        self.family = family
        self.name = name
        self.config = config
    }

    enum CodingKeys: String, CodingKey { case family, name, config }

    /// Reads the current form, and the earlier one (the bare settings object, written before
    /// twins were stored as family + JSON) with an empty family and name: the run's DEVICE
    /// says which twin it was.
    public init(from decoder: any Decoder) throws {
        if let c = try? decoder.container(keyedBy: CodingKeys.self), let family = try? c.decode(String.self, forKey: .family),
            let name = try? c.decode(String.self, forKey: .name), let config = try? c.decode(JSONValue.self, forKey: .config)
        {
            self.init(family: family, name: name, config: config)
        } else {
            self.init(family: "", name: "", config: try JSONValue(from: decoder))
        }
    }
}
