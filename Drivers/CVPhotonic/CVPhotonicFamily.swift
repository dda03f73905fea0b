import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The continuous-variable photonic family's registry entry: a twin-only family (seed 000's
/// Gaussian circuits). It has no hardware, no command set and no wire protocol, so it says
/// `hasLink = false`; every link-side entry point refuses with `CVPhotonicFamilyError`.
public enum CVPhotonicFamily: DeviceFamilyDriver {
    public static let family = "cv-photonic"
    /// No command set: no schema to hash.
    public static let schemaHash: UInt32 = 0
    public static let hasLink = false

    public static func commandName(_ type: FrameType) -> String { "none (cv-photonic has no wire protocol)" }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        throw CVPhotonicFamilyError.twinOnly(operation: "drive a board over a link")
    }

    public static var conformanceChecks: [ConformanceCheck] { [] }

    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        throw CVPhotonicFamilyError.twinOnly(operation: "check a board's health")
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        throw CVPhotonicFamilyError.twinOnly(operation: "emulate a board")
    }
}

/// Why a link-side operation is refused for the twin-only CV photonic family.
public enum CVPhotonicFamilyError: Error, Equatable, CustomStringConvertible {
    /// The family is a simulation only.
    case twinOnly(operation: String)

    public var description: String {
        switch self {
        case .twinOnly(let operation):
            "cannot \(operation): cv-photonic is a twin-only family (a Gaussian-state simulation with no hardware "
                + "and no wire protocol); use DEVICE sim:cv-photonic"
        }
    }
}
