import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The optics family's registry entry: the `sim:optics` twin (SLM + scattering medium +
/// camera in one process). The rig over links — an `slm` on serial and a `camera` on USB
/// composed into one substrate — is not built yet; its entry points say so in one line.
public enum OpticsFamily: DeviceFamilyDriver {
    public static let family = "optics"

    /// The schema the twin's settings and state follow (no wire command set yet).
    public static let schemaText = "optics twin v1: OpticsConfig keys + pnnlab.optics-state v1"
    public static var schemaHash: UInt32 { CRC32.checksum(Array(schemaText.utf8)) }

    public static func commandName(_ type: FrameType) -> String { "optics frame type 0x\(String(type.rawValue, radix: 16))" }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        throw OpticsFamilyError.notOverLinks("host driver")
    }

    public static var conformanceChecks: [ConformanceCheck] { [] }

    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        throw OpticsFamilyError.notOverLinks("health check")
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        throw OpticsFamilyError.notOverLinks("emulator")
    }

    /// A twin's state (the hidden truth calibration compares with).
    public static func hiddenTruth(of substrate: any Substrate) async throws -> Data? {
        if let twin = substrate as? OpticsTwin { return await twin.exportState() }
        return nil
    }
}

/// What the optics family cannot do yet, in words.
public enum OpticsFamilyError: Error, Equatable, CustomStringConvertible {
    /// The rig over serial/USB links is not built; only `sim:optics` is.
    case notOverLinks(String)

    public var description: String {
        switch self {
        case .notOverLinks(let what):
            return
                "optics: the \(what) over a link is not built yet (the slm and camera devices are still to come); use sim:optics"
        }
    }
}
