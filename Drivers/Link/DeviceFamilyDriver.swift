import Foundation
import PNNCalibration
import PNNCore
import PNNTransport
import PNNWire

/// What a device family contributes to the registry: its name and schema, the host
/// driver, the emulator and its options, its conformance checks and health check, its
/// `sim:` twins, and its calibration procedure. Adding a family means one folder under
/// `Drivers/` with a type conforming to this, and one line in the registry
/// (`DeviceFamilies` in PNNDevices); nothing else names the family.
public protocol DeviceFamilyDriver: Sendable {
    /// Family name as sent in the hello (`crossbar`, `clln`…).
    static var family: String { get }
    /// CRC-32 of the family's command-set schema text.
    static var schemaHash: UInt32 { get }
    /// Names of the family's commands by frame type, for messages.
    static func commandName(_ type: FrameType) -> String

    /// The host driver on an open connection.
    static func substrate(on connection: LinkConnection) async throws -> any Substrate

    /// Family-specific conformance checks.
    static var conformanceChecks: [ConformanceCheck] { get }

    /// Round trip, streamed throughput and a read of all outputs.
    static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport

    /// Options `pnnlab emulate FAMILY` takes besides the common ones (seed, serial, ideal).
    static var emulatorOptions: [FamilyOption] { get }

    /// The device side of an emulated board of this family.
    static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint

    /// The boards `pnnlab emulate FAMILY` serves, each on its own link, with its role; the
    /// default is the one board of ``emulator(_:)``. A rig family (optics: an SLM and a
    /// camera on one simulated bench) returns several.
    static func emulators(_ settings: EmulatorSettings) throws -> [EmulatedBoard]

    /// For a family whose device is a rig of attached devices (`pnnlab rig create`): each
    /// member's role and family. Empty for a family of single boards.
    static var rigMembers: [RigMember] { get }

    /// Settings `pnnlab rig create` takes besides the members.
    static var rigOptions: [FamilyOption] { get }

    /// Composes the rig's substrate from its opened members (by role), its settings and the
    /// task's geometry.
    static func rig(members: [String: any Substrate], options: FamilyOptionValues, geometry: TwinGeometry?) async throws
        -> any Substrate

    /// Whether the family has hardware behind a wire protocol; false for a twin-only family
    /// (no board to connect to, emulate or health-check; only its `sim:` twins).
    static var hasLink: Bool { get }

    /// The in-process twins this family offers as `sim:` devices.
    static var twins: [TwinEntry] { get }

    /// The family's calibration procedure, if it has one.
    static var calibration: (any CalibrationProcedure)? { get }

    /// The hidden truth of a twin or an emulated board, as the state JSON the calibration
    /// procedure compares with; nil for real hardware (or when the family exports none).
    static func hiddenTruth(of substrate: any Substrate) async throws -> Data?

    /// The differentiable model of a device with this descriptor (physics-aware training's
    /// backward pass, in-silico training); nil when the family provides none.
    static func model(for descriptor: SubstrateDescriptor) -> (any SubstrateModel)?

    /// The differentiable model of this opened device, for a family whose model depends on
    /// more than the descriptor (the optics twin's transmission matrix and LUT). Default:
    /// `model(for: substrate.descriptor)`. Throws, with the reason in words, for a device
    /// the family has a model for in general but not for this one (an optics rig over links,
    /// whose transmission matrix nobody has measured).
    static func model(of substrate: any Substrate) async throws -> (any SubstrateModel)?

    /// The differentiable model of the device `profile` was measured on, built from what the
    /// calibration measured (`pnnlab train --model-profile`); nil when the family builds
    /// none. Throws when the profile is another device's or another procedure's.
    static func model(for descriptor: SubstrateDescriptor, profile: CalibrationProfile) throws -> (any SubstrateModel)?
}

extension DeviceFamilyDriver {
    public static func emulators(_ settings: EmulatorSettings) throws -> [EmulatedBoard] {
        [EmulatedBoard(role: family, endpoint: try emulator(settings))]
    }
    public static var rigMembers: [RigMember] { [] }
    public static var rigOptions: [FamilyOption] { [] }
    public static func rig(members: [String: any Substrate], options: FamilyOptionValues, geometry: TwinGeometry?) async throws
        -> any Substrate
    {
        throw RigError.notARig(family: family)
    }
    public static var hasLink: Bool { true }
    public static var emulatorOptions: [FamilyOption] { [] }
    public static var twins: [TwinEntry] { [] }
    public static var calibration: (any CalibrationProcedure)? { nil }
    public static func hiddenTruth(of substrate: any Substrate) async throws -> Data? { nil }
    public static func model(for descriptor: SubstrateDescriptor) -> (any SubstrateModel)? { nil }
    public static func model(of substrate: any Substrate) async throws -> (any SubstrateModel)? {
        model(for: substrate.descriptor)
    }
    public static func model(for descriptor: SubstrateDescriptor, profile: CalibrationProfile) throws -> (any SubstrateModel)? {
        nil
    }
}

/// One board of an emulated family, served on its own link.
public struct EmulatedBoard: Sendable {
    /// What the board is in its rig (`slm`, `camera`; the family name for a single board).
    public var role: String
    public var endpoint: any DeviceEndpoint

    public init(role: String, endpoint: any DeviceEndpoint) {
        self.role = role
        self.endpoint = endpoint
    }
}

/// One member of a rig: its role and the family its device must belong to.
public struct RigMember: Sendable, Equatable {
    public var role: String
    public var family: String

    public init(role: String, family: String) {
        self.role = role
        self.family = family
    }
}

/// Why a rig could not be made or opened.
public enum RigError: Error, Equatable, CustomStringConvertible {
    /// The family's devices are single boards, not rigs.
    case notARig(family: String)
    /// No family's rig has exactly these roles.
    case noFamilyFor(roles: [String], known: [String])
    /// A member name that is not an attached device, or of the wrong family.
    case badMember(role: String, name: String, why: String)

    public var description: String {
        switch self {
        case .notARig(let f): "\(f) devices are single boards, not rigs"
        case .noFamilyFor(let roles, let known):
            "no rig has the members \(roles.map { "--" + $0 }.joined(separator: " ")); known rigs: \(known.joined(separator: "; "))"
        case .badMember(let role, let name, let why): "rig member --\(role) \(name): \(why)"
        }
    }
}

/// What `pnnlab emulate FAMILY` may set on the emulated board.
public struct EmulatorSettings: Sendable {
    /// Seed of the twin (device spreads, noise).
    public var seed: UInt64
    /// Serial number reported in the hello (default `EMU-<seed>`).
    public var serial: String?
    /// Switch every non-ideality of the twin off.
    public var ideal: Bool
    /// The family's own options (`emulatorOptions`), parsed and validated.
    public var options: FamilyOptionValues

    public init(seed: UInt64 = 1, serial: String? = nil, ideal: Bool = false, options: FamilyOptionValues = .init()) {
        self.seed = seed
        self.serial = serial
        self.ideal = ideal
        self.options = options
    }
}

/// A board's health at attach time.
public struct HealthReport: Sendable, Codable, Equatable {
    /// Mean round-trip time of a minimal request, seconds.
    public var roundTrip: Double
    /// Requests per second when pipelined.
    public var requestsPerSecond: Double
    /// Measurement payload bytes per second in a device-pushed stream.
    public var streamBytesPerSecond: Double
    /// Stream frames per second.
    public var streamFramesPerSecond: Double
    /// Stream frames lost (gaps in the counter).
    public var streamFramesLost: Int
    /// The outputs read with a test input, in the output unit.
    public var outputs: [Double]
    /// Unit of `outputs`.
    public var outputUnit: String
    /// Device-side counters worth showing (violations, pulses…).
    public var counters: [String: Int]

    public init(
        roundTrip: Double, requestsPerSecond: Double, streamBytesPerSecond: Double, streamFramesPerSecond: Double,
        streamFramesLost: Int, outputs: [Double], outputUnit: String, counters: [String: Int]
    ) {
        self.roundTrip = roundTrip
        self.requestsPerSecond = requestsPerSecond
        self.streamBytesPerSecond = streamBytesPerSecond
        self.streamFramesPerSecond = streamFramesPerSecond
        self.streamFramesLost = streamFramesLost
        self.outputs = outputs
        self.outputUnit = outputUnit
        self.counters = counters
    }
}

extension WireClient {
    /// Mean round trip of `count` pings (stop and wait), then pipelined pings per second.
    public func measurePing(count: Int = 50) async throws(LinkError) -> (roundTrip: Double, perSecond: Double) {
        let clock = ContinuousClock()
        let t0 = clock.now
        for i in 0..<count { _ = try await request(.ping, payload: [UInt8(truncatingIfNeeded: i)], retry: .idempotent) }
        let rtt = (clock.now - t0).seconds / Double(count)
        let t1 = clock.now
        var tickets: [Ticket] = []
        for i in 0..<(count * 4) {
            tickets.append(try await submit(.ping, payload: [UInt8(truncatingIfNeeded: i)], retry: .idempotent))
        }
        for t in tickets { _ = try await reply(to: t) }
        return (rtt, Double(count * 4) / max((clock.now - t1).seconds, 1e-9))
    }
}
