import CameraDriver
import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The optics family's registry entry: the `sim:optics` twin (SLM + scattering medium +
/// camera in one process), and the rig over links — an attached `slm` and `camera`
/// composed into one substrate (`OpticsRig`, `pnnlab rig create NAME --slm S --camera C`).
/// `pnnlab emulate optics` serves an SLM and a camera on one simulated bench (`OpticsBench`),
/// each on its own pty, the SLM's "settled" output wired to the camera's trigger line 1.
public enum OpticsFamily: DeviceFamilyDriver {
    public static let family = "optics"

    /// The schema the twin's settings and state follow (a rig speaks its members' command sets).
    public static let schemaText = "optics twin v1: OpticsConfig keys + pnnlab.optics-state v1"
    public static var schemaHash: UInt32 { CRC32.checksum(Array(schemaText.utf8)) }

    public static func commandName(_ type: FrameType) -> String { "optics frame type 0x\(String(type.rawValue, radix: 16))" }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        throw OpticsFamilyError.notOneBoard("host driver")
    }

    public static var conformanceChecks: [ConformanceCheck] { [] }

    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        throw OpticsFamilyError.notOneBoard("health check")
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        throw OpticsFamilyError.notOneBoard("emulator")
    }

    public static var emulatorOptions: [FamilyOption] {
        [
            FamilyOption("width", .integer(1...1024), help: "SLM macro-pixels per row (default 32)."),
            FamilyOption("height", .integer(1...1024), help: "SLM macro-pixel rows (default 32)."),
            FamilyOption("camera-width", .integer(1...4096), help: "Camera sensor pixels per row (default 64)."),
            FamilyOption("camera-height", .integer(1...4096), help: "Camera sensor rows (default 32)."),
            FamilyOption(
                "no-trigger-line", .flag,
                help: "Do not wire the SLM's trigger output to the camera (the rig then syncs in software)."),
        ]
    }

    /// The bench behind `pnnlab emulate optics`: the twin's SLM (LUT, fringing, settling),
    /// a frozen scattering medium and the twin's camera sensor.
    public static func bench(_ settings: EmulatorSettings) -> OpticsBench {
        var config = OpticsConfig()
        let w = settings.options.integer("width") ?? 32
        let h = settings.options.integer("height") ?? 32
        config.inputs = w * h
        config.parameters = 0
        config.gridWidth = w
        config.cameraWidth = settings.options.integer("camera-width") ?? 64
        config.cameraHeight = settings.options.integer("camera-height") ?? 32
        config.seed = settings.seed
        if settings.ideal { config = config.idealised() }
        return OpticsBench(config: config)
    }

    /// An SLM and a camera on one bench: the camera sees what the SLM shows.
    public static func emulators(_ settings: EmulatorSettings) throws -> [EmulatedBoard] {
        let bench = bench(settings)
        let serial = settings.serial ?? "EMU-\(settings.seed)"
        let slm = SLMEmulator(bench: bench, serial: serial + "-S")
        let camera = CameraEmulator(
            config: bench.config, scene: bench, serial: serial + "-C", lineTrigger: !settings.options.flag("no-trigger-line"))
        return [EmulatedBoard(role: "slm", endpoint: slm), EmulatedBoard(role: "camera", endpoint: camera)]
    }

    public static var rigMembers: [RigMember] {
        [RigMember(role: "slm", family: SLMFamily.family), RigMember(role: "camera", family: CameraFamily.family)]
    }

    public static var rigOptions: [FamilyOption] {
        [
            FamilyOption("inputs", .integer(1...1_000_000), help: "Input macro-pixels (default: the task's inputs)."),
            FamilyOption(
                "parameters", .integer(0...1_000_000),
                help: "Trainable grey levels (default: one per input macro-pixel in the overlay layout, else 64)."),
            FamilyOption(
                "layout", .text(valueName: "overlay|side-by-side"),
                help: "Trainable grey levels added to the input macro-pixels (overlay, default) or on their own beside them."),
            FamilyOption("binning", .integer(1...64), help: "Camera pixels binned per feature along each axis (default 1)."),
            FamilyOption("exposure", .number(10...100_000), help: "Camera ExposureTime, µs (default 1000)."),
            FamilyOption("sync", .text(valueName: "auto|hardware|software"), help: "Synchronisation (default auto)."),
        ]
    }

    /// An `OpticsRig` of an attached SLM and camera.
    public static func rig(members: [String: any Substrate], options: FamilyOptionValues, geometry: TwinGeometry?) async throws
        -> any Substrate
    {
        guard let slm = members["slm"] as? SLMDevice else {
            throw OpticsRigError.wrongMember(
                role: "slm", expected: SLMFamily.family, found: members["slm"]?.descriptor.identity.family ?? "missing")
        }
        guard let camera = members["camera"] as? CameraDevice else {
            throw OpticsRigError.wrongMember(
                role: "camera", expected: CameraFamily.family,
                found: members["camera"]?.descriptor.identity.family ?? "missing")
        }
        let sync: RigSync?
        switch options.text("sync") ?? "auto" {
        case "auto": sync = nil
        case "hardware": sync = .hardware
        case "software": sync = .software
        case let other: throw OpticsRigError.badSetting("--sync \(other): choose auto, hardware or software")
        }
        guard let layout = OpticsLayout(rawValue: options.text("layout") ?? OpticsLayout.overlay.rawValue) else {
            throw OpticsRigError.badSetting("--layout \(options.text("layout") ?? ""): choose overlay or side-by-side")
        }
        let inputs = options.integer("inputs") ?? geometry?.inputs ?? 64
        let parameters =
            options.integer("parameters")
            ?? (layout == .overlay ? inputs : min(64, max(0, slm.info.patternBytes - inputs)))
        return try OpticsRig(
            slm: slm, camera: camera, inputs: inputs, parameters: parameters, binning: options.integer("binning") ?? 1,
            exposure: options.number("exposure") ?? 1000, sync: sync, layout: layout)
    }

    /// A twin's state (the hidden truth calibration compares with).
    public static func hiddenTruth(of substrate: any Substrate) async throws -> Data? {
        if let twin = substrate as? OpticsTwin { return await twin.exportState() }
        return nil
    }
}

/// What the optics family is not, in words.
public enum OpticsFamilyError: Error, Equatable, CustomStringConvertible {
    /// An optics rig is two boards (an `slm` and a `camera`), not one on a single link.
    case notOneBoard(String)

    public var description: String {
        switch self {
        case .notOneBoard(let what):
            return
                "optics: there is no single-board \(what); a rig is an slm and a camera (pnnlab emulate optics serves both, "
                + "pnnlab rig create NAME --slm S --camera C composes attached ones); or use sim:optics"
        }
    }
}
