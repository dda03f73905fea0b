import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The `slm` family's registry entry: a phase SLM on its own link (serial), its emulator
/// (backed by the optics twin's SLM physics), host driver, health and conformance checks.
public enum SLMFamily: DeviceFamilyDriver {
    public static let family = "slm"
    public static var schemaHash: UInt32 { SLMCommand.schemaHash }

    public static func commandName(_ type: FrameType) -> String { SLMCommand.name(of: type) }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        try SLMDevice(connection: connection)
    }

    public static var conformanceChecks: [ConformanceCheck] { SLMChecks.all }

    public static var emulatorOptions: [FamilyOption] {
        [
            FamilyOption("width", .integer(1...1024), help: "Macro-pixels per row (default 32)."),
            FamilyOption("height", .integer(1...1024), help: "Macro-pixel rows (default 32)."),
        ]
    }

    /// An emulated SLM: the optics twin's LUT, fringing and settling (ideal: linear LUT,
    /// no crosstalk, instant settling) on a width × height macro-pixel grid.
    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        var config = OpticsConfig()
        let w = settings.options.integer("width") ?? 32
        let h = settings.options.integer("height") ?? 32
        config.inputs = w * h
        config.parameters = 0
        config.gridWidth = w
        config.seed = settings.seed
        if settings.ideal { config = config.idealised() }
        return SLMEmulator(config: config, serial: settings.serial ?? "EMU-\(settings.seed)")
    }

    /// Ping round trip and pipelined rate, and the SLM's status.
    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        guard let slm = substrate as? SLMDevice else {
            throw SubstrateError.malformedReply("health check needs an SLM driver")
        }
        let ping = try await slm.connection.client.measurePing()
        let status = try await slm.status()
        return HealthReport(
            roundTrip: ping.roundTrip, requestsPerSecond: ping.perSecond, streamBytesPerSecond: 0, streamFramesPerSecond: 0,
            streamFramesLost: 0, outputs: [], outputUnit: PhysicalUnit.greyLevel.symbol,
            counters: ["violations": Int(status.violations), "patterns": Int(status.patterns)])
    }
}
