import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The `camera` family's registry entry: a machine-vision camera on its own link, its
/// emulator (the optics twin's sensor model looking at a static speckle), host driver,
/// health and conformance checks.
public enum CameraFamily: DeviceFamilyDriver {
    public static let family = "camera"
    public static var schemaHash: UInt32 { CameraCommand.schemaHash }

    public static func commandName(_ type: FrameType) -> String { CameraCommand.name(of: type) }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        try CameraDevice(connection: connection)
    }

    public static var conformanceChecks: [ConformanceCheck] { CameraChecks.all }

    public static var emulatorOptions: [FamilyOption] {
        [
            FamilyOption("width", .integer(1...4096), help: "Sensor pixels per row (default 64)."),
            FamilyOption("height", .integer(1...4096), help: "Sensor rows (default 32)."),
            FamilyOption("bits", .integer(8...16), help: "ADC bits (default 12)."),
        ]
    }

    /// An emulated camera on its own: the twin's sensor model (ideal: no noise, no
    /// saturation, no quantisation) looking at a static speckle; no trigger line wired.
    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        var config = OpticsConfig()
        config.cameraWidth = settings.options.integer("width") ?? 64
        config.cameraHeight = settings.options.integer("height") ?? 32
        config.bits = settings.options.integer("bits") ?? 12
        config.seed = settings.seed
        if settings.ideal { config = config.idealised() }
        let scene = StaticSpeckleScene(width: config.cameraWidth, height: config.cameraHeight, seed: settings.seed)
        return CameraEmulator(config: config, scene: scene, serial: settings.serial ?? "EMU-\(settings.seed)", lineTrigger: false)
    }

    /// Ping round trip and pipelined rate, frames/s and bytes/s of software-triggered grabs,
    /// and the camera's counters.
    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        guard let camera = substrate as? CameraDevice else {
            throw SubstrateError.malformedReply("health check needs a camera driver")
        }
        let ping = try await camera.connection.client.measurePing()
        try await camera.set(.triggerMode, 1)
        try await camera.set(.triggerSource, 0)
        try await camera.start()
        let clock = ContinuousClock()
        let t0 = clock.now
        var bytes = 0
        var last: [Double] = []
        let frames = 10
        for _ in 0..<frames {
            try await camera.triggerSoftware()
            let g = try await camera.grab()
            bytes += g.info.total
            last = g.pixels
        }
        let seconds = max((clock.now - t0).seconds, 1e-9)
        try await camera.stop()
        let status = try await camera.status()
        return HealthReport(
            roundTrip: ping.roundTrip, requestsPerSecond: ping.perSecond, streamBytesPerSecond: Double(bytes) / seconds,
            streamFramesPerSecond: Double(frames) / seconds, streamFramesLost: Int(status.dropped),
            outputs: Array(last.prefix(8)),
            outputUnit: "DN", counters: ["violations": Int(status.violations), "frames": Int(status.frames)])
    }
}
