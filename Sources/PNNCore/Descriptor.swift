/// Who a substrate is: the facts a lab notebook records about a device.
public struct DeviceIdentity: Sendable, Codable, Equatable, Hashable {
    /// Device family, e.g. `crossbar`, `clln`, `optics`.
    public var family: String
    /// Model name, e.g. `crossbar-twin` or a board revision.
    public var model: String
    /// Serial number; twins use `sim-<seed>`.
    public var serial: String
    /// Firmware (or twin) version string.
    public var firmware: String

    public init(family: String, model: String, serial: String, firmware: String) {
        self.family = family
        self.model = model
        self.serial = serial
        self.firmware = firmware
    }

    /// `family/model serial` — the short form used in listings.
    public var summary: String { "\(family)/\(model) \(serial)" }
}

/// The trainable physical parameters θ of a substrate with their per-parameter safe range.
///
/// Stored as parallel arrays so that a 1024×128 differential crossbar (262 144 devices)
/// costs a few megabytes, not a quarter of a million structs.
public struct ParameterSpace: Sendable, Codable, Equatable {
    /// Lowest value that may ever be sent to the device, per parameter.
    public var lower: [Double]
    /// Highest value that may ever be sent to the device, per parameter.
    public var upper: [Double]
    /// Smallest change the device can resolve (program-and-verify tolerance), per parameter.
    public var resolution: [Double]
    /// Unit of every parameter.
    public var unit: PhysicalUnit
    /// How parameter `i` is named in messages (e.g. `G+[r,c]`); see `name(of:)`.
    public var naming: ParameterNaming

    public init(
        lower: [Double], upper: [Double], resolution: [Double], unit: PhysicalUnit,
        naming: ParameterNaming = .indexed(prefix: "θ")
    ) {
        precondition(lower.count == upper.count && lower.count == resolution.count)
        self.lower = lower
        self.upper = upper
        self.resolution = resolution
        self.unit = unit
        self.naming = naming
    }

    /// A space of `count` parameters sharing one range.
    public init(
        count: Int, lower: Double, upper: Double, resolution: Double, unit: PhysicalUnit,
        naming: ParameterNaming = .indexed(prefix: "θ")
    ) {
        self.init(
            lower: Array(repeating: lower, count: count),
            upper: Array(repeating: upper, count: count),
            resolution: Array(repeating: resolution, count: count), unit: unit, naming: naming)
    }

    /// Number of parameters.
    public var count: Int { lower.count }

    /// Human-readable name of parameter `index`.
    public func name(of index: Int) -> String { naming.name(of: index) }
}

/// How parameters are named for humans, without storing one string per parameter.
public enum ParameterNaming: Sendable, Codable, Equatable {
    /// `prefix[i]`.
    case indexed(prefix: String)
    /// A differential crossbar: index = (row·cols + col)·2 + (0 for G+, 1 for G−).
    case differentialCrossbar(rows: Int, cols: Int)

    /// The name of parameter `index`.
    public func name(of index: Int) -> String {
        switch self {
        case .indexed(let prefix):
            return "\(prefix)[\(index)]"
        case .differentialCrossbar(_, let cols):
            let pair = index / 2
            return "G\(index % 2 == 0 ? "+" : "−")[\(pair / cols),\(pair % cols)]"
        }
    }
}

/// A bank of input or output channels sharing a unit and a range.
public struct ChannelSpace: Sendable, Codable, Equatable {
    /// Number of channels.
    public var count: Int
    /// Lowest safe (inputs) or representable (outputs) value.
    public var lower: Double
    /// Highest safe (inputs) or representable (outputs) value.
    public var upper: Double
    /// Quantisation step of the DAC (inputs) or ADC (outputs); 0 when unknown.
    public var resolution: Double
    /// Unit of every channel.
    public var unit: PhysicalUnit

    public init(count: Int, lower: Double, upper: Double, resolution: Double, unit: PhysicalUnit) {
        self.count = count
        self.lower = lower
        self.upper = upper
        self.resolution = resolution
        self.unit = unit
    }
}

/// Optional abilities a substrate may have. Trainers discover them here, never assume them.
public struct Capabilities: OptionSet, Sendable, Codable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Output boundary conditions can be imposed (free vs clamped states).
    public static let clampable = Capabilities(rawValue: 1 << 0)
    /// The device runs its own local learning rule for a duration (CLLN).
    public static let selfLearning = Capabilities(rawValue: 1 << 1)
    /// Internal node voltages / edge drops can be read.
    public static let nodeReadout = Capabilities(rawValue: 1 << 2)
    /// The device can be reset to a known initial state.
    public static let resettable = Capabilities(rawValue: 1 << 3)
    /// Acquisition can be hardware-triggered.
    public static let triggered = Capabilities(rawValue: 1 << 4)
    /// Parameters drift with time (PCM-like), so a recent read-back beats an old one.
    public static let drifting = Capabilities(rawValue: 1 << 5)

    /// Names of the set capabilities, for tables and JSON.
    public var names: [String] {
        let all: [(Capabilities, String)] = [
            (.clampable, "clampable"), (.selfLearning, "self-learning"),
            (.nodeReadout, "node-readout"), (.resettable, "resettable"),
            (.triggered, "triggered"), (.drifting, "drifting"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }
}

/// Everything a host needs to know to drive a substrate safely: identity, parameter space,
/// input/output channels, capabilities and the largest batch it accepts.
public struct SubstrateDescriptor: Sendable, Codable, Equatable {
    public var identity: DeviceIdentity
    public var parameters: ParameterSpace
    public var inputs: ChannelSpace
    public var outputs: ChannelSpace
    public var capabilities: Capabilities
    /// Largest number of input vectors accepted by one `measure` call.
    public var maxBatch: Int

    public init(
        identity: DeviceIdentity, parameters: ParameterSpace, inputs: ChannelSpace,
        outputs: ChannelSpace, capabilities: Capabilities, maxBatch: Int
    ) {
        self.identity = identity
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
        self.capabilities = capabilities
        self.maxBatch = maxBatch
    }
}
