import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The spring-network family's registry entry: a twin-only family (seed 000's mechanical
/// networks). It has no hardware, no command set and no wire protocol, so it says
/// `hasLink = false`; every link-side entry point refuses with `SpringFamilyError`.
public enum SpringFamily: DeviceFamilyDriver {
    public static let family = "spring"
    /// No command set: no schema to hash.
    public static let schemaHash: UInt32 = 0
    public static let hasLink = false

    public static func commandName(_ type: FrameType) -> String { "none (spring has no wire protocol)" }

    public static func substrate(on connection: LinkConnection) async throws -> any Substrate {
        throw SpringFamilyError.twinOnly(operation: "drive a board over a link")
    }

    public static var conformanceChecks: [ConformanceCheck] { [] }

    public static func healthCheck(_ substrate: any Substrate) async throws -> HealthReport {
        throw SpringFamilyError.twinOnly(operation: "check a board's health")
    }

    public static func emulator(_ settings: EmulatorSettings) throws -> any DeviceEndpoint {
        throw SpringFamilyError.twinOnly(operation: "emulate a board")
    }
}

/// Why a link-side operation is refused for the twin-only spring family.
public enum SpringFamilyError: Error, Equatable, CustomStringConvertible {
    /// The family is a simulation only.
    case twinOnly(operation: String)

    public var description: String {
        switch self {
        case .twinOnly(let operation):
            "cannot \(operation): spring is a twin-only family (a linear-elastic spring-network simulation with no "
                + "hardware and no wire protocol); use DEVICE sim:spring"
        }
    }
}
