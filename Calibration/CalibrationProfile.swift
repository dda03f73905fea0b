import Foundation
import PNNCore

/// A versioned calibration profile tied to one device (family + serial): who was measured,
/// by which procedure and version, when, a few headline figures, and the family's payload
/// (JSON). Stored in the run store and writable to a file.
public struct CalibrationProfile: Sendable, Codable, Equatable {
    /// Version of this envelope format.
    public static let formatVersion = 1

    public var formatVersion: Int
    public var family: String
    public var model: String
    public var serial: String
    public var firmware: String
    /// Procedure name and version, e.g. `clln-learning-rule` 1.
    public var procedure: String
    public var procedureVersion: Int
    public var createdAt: Date
    /// Headline figures (name → value) for listings.
    public var summary: [String: Double]
    /// The family's result, JSON.
    public var payload: String

    public init(
        identity: DeviceIdentity, procedure: String, procedureVersion: Int, summary: [String: Double], payload: String,
        createdAt: Date = Date()
    ) {
        formatVersion = Self.formatVersion
        family = identity.family
        model = identity.model
        serial = identity.serial
        firmware = identity.firmware
        self.procedure = procedure
        self.procedureVersion = procedureVersion
        self.createdAt = createdAt
        self.summary = summary
        self.payload = payload
    }

    /// Key-sorted JSON.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Decodes a profile, refusing other format versions.
    public static func decode(_ json: String) throws(CalibrationError) -> CalibrationProfile {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let profile: CalibrationProfile
        do {
            profile = try decoder.decode(CalibrationProfile.self, from: Data(json.utf8))
        } catch {
            throw .unreadable("\(error)")
        }
        guard profile.formatVersion == formatVersion else {
            throw .formatVersion(found: profile.formatVersion, supported: formatVersion)
        }
        return profile
    }

    /// The payload, after checking the profile belongs to `identity`.
    public func payload<T: Decodable>(_ type: T.Type, for identity: DeviceIdentity) throws(CalibrationError) -> T {
        guard identity.family == family, identity.serial == serial else {
            throw .wrongDevice(profile: "\(family) \(serial)", device: "\(identity.family) \(identity.serial)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(payload.utf8))
        } catch {
            throw .unreadable("payload: \(error)")
        }
    }
}

/// Calibration failures, phrased for the person at the bench.
public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    case noProcedure(family: String)
    case wrongDevice(profile: String, device: String)
    case formatVersion(found: Int, supported: Int)
    case unreadable(String)
    case measurementFailed(String)

    public var description: String {
        switch self {
        case .noProcedure(let family):
            return
                "no calibration procedure for family '\(family)' yet (available: \(CalibrationProcedures.families.joined(separator: ", ")))"
        case .wrongDevice(let profile, let device):
            return "calibration profile is for \(profile), not for this device (\(device))"
        case .formatVersion(let found, let supported):
            return "calibration profile format \(found) is not supported (this pnnlab reads format \(supported))"
        case .unreadable(let why):
            return "calibration profile cannot be read: \(why)"
        case .measurementFailed(let why):
            return "calibration failed: \(why)"
        }
    }
}

/// A family's calibration procedure. Families add theirs to `CalibrationProcedures.all`.
public protocol CalibrationProcedure: Sendable {
    /// Device family it calibrates.
    static var family: String { get }
    /// Procedure name and version recorded in the profile.
    static var name: String { get }
    static var version: Int { get }
    /// Measures `substrate` and returns the profile; `progress` gets (done, total, what).
    func run(on substrate: any Substrate, progress: @Sendable (Int, Int, String) -> Void) async throws -> CalibrationProfile
}

/// The registry of calibration procedures, by family.
public enum CalibrationProcedures {
    public static var families: [String] { ["clln"] }

    /// The default procedure for `family`.
    public static func procedure(for family: String) throws(CalibrationError) -> any CalibrationProcedure {
        switch family {
        case "clln": return CLLNCalibration()
        default: throw .noProcedure(family: family)
        }
    }
}
